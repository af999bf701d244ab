using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The stores' one way to run SQL: a command with its parameters bound (null as NULL, times as <see cref="StateTime"/>
/// text, so no store formats a time itself), executed or read, and the typed reads of a row's nullable columns.
/// A command made while the connection has a transaction open runs in it (Microsoft.Data.Sqlite attaches it).
/// </summary>
internal static class StateCommands
{
    public static SqliteCommand Command(this SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, Bind(value));
        }
        return command;
    }

    public static int Execute(this SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(this SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        return command.ExecuteScalar();
    }

    /// <summary>Every row, each made by <paramref name="row"/> (which reads the current one).</summary>
    public static List<T> Read<T>(this SqliteConnection connection, string sql, Func<SqliteDataReader, T> row,
        params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }
        return rows;
    }

    public static DateTimeOffset GetTime(this SqliteDataReader reader, int ordinal) => StateTime.FromText(reader.GetString(ordinal));

    public static DateTimeOffset? GetTimeOrNull(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetTime(ordinal);

    public static Timestamp? GetTimestampOrNull(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Timestamp.FromDateTimeOffset(reader.GetTime(ordinal));

    public static string? GetStringOrNull(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static byte[]? GetBytesOrNull(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : (byte[])reader.GetValue(ordinal);

    private static object Bind(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset time => StateTime.ToText(time),
        Timestamp timestamp => StateTime.ToText(timestamp.ToDateTimeOffset()),
        bool flag => flag ? 1 : 0,
        // an enum would be stored as its number, which no reader of the text columns expects
        System.Enum => throw new ArgumentException($"{value.GetType().Name} {value}: store states and kinds as their text (RolloutText)", nameof(value)),
        _ => value,
    };
}
