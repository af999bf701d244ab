using System.Data.Common;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The stores' one way to run SQL on either engine: a command with its parameters bound (named <c>@name</c>, which
/// SQLite and Npgsql both read; null as NULL, times as <see cref="StateTime"/> text, so no store formats a time
/// itself), executed or read, and the typed reads of a row's columns. A command made while the connection has a
/// transaction open runs in it (both providers attach it).
/// </summary>
internal static class StateCommands
{
    public static DbCommand Command(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = Bind(value);
            command.Parameters.Add(parameter);
        }
        return command;
    }

    public static int Execute(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, parameters);
        return command.ExecuteScalar() is var value && value is DBNull ? null : value;
    }

    /// <summary>A COUNT or MAX as a long: SQLite answers Int64, PostgreSQL bigint or integer.</summary>
    public static long Count(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Convert.ToInt64(connection.Scalar(sql, parameters) ?? 0L, CultureInfo.InvariantCulture);

    /// <summary>Every row, each made by <paramref name="row"/> (which reads the current one).</summary>
    public static List<T> Read<T>(this DbConnection connection, string sql, Func<DbDataReader, T> row,
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

    // integers: SQLite has one 64-bit type, the PostgreSQL tables use integer and bigint; convert rather than cast
    public static long GetLong(this DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static int GetInt(this DbDataReader reader, int ordinal) => Convert.ToInt32(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static DateTimeOffset GetTime(this DbDataReader reader, int ordinal) => StateTime.FromText(reader.GetString(ordinal));

    public static DateTimeOffset? GetTimeOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetTime(ordinal);

    public static Timestamp? GetTimestampOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Timestamp.FromDateTimeOffset(reader.GetTime(ordinal));

    public static string? GetStringOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static byte[]? GetBytesOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : (byte[])reader.GetValue(ordinal);

    private static object Bind(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset time => StateTime.ToText(time),
        Timestamp timestamp => StateTime.ToText(timestamp.ToDateTimeOffset()),
        bool flag => flag ? 1 : 0,
        // PostgreSQL's text refuses NUL (22021), which node-sent text may hold (a hostile CN=a\0.b, a probe's
        // output): shown as U+2400 on both engines, so both keep the same text
        string text => text.Replace('\0', '\u2400'),
        // an enum would be stored as its number, which no reader of the text columns expects
        System.Enum => throw new ArgumentException($"{value.GetType().Name} {value}: store states and kinds as their text (RolloutText)", nameof(value)),
        _ => value,
    };
}
