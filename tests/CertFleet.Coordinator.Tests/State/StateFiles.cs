using System.Security.Cryptography;
using CertFleet.Testing;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.Tests.State;

/// <summary>state.db files as the tests make and read them: outside the coordinator's own connection pool.</summary>
internal static class StateFiles
{
    /// <summary>tests/fixtures/state/&lt;name&gt;: a state.db an earlier release left, as SQL.</summary>
    public static string Fixture(string name) => Path.Combine(SharedFixtures.RepositoryRoot, "tests", "fixtures", "state", name);

    /// <summary>A state dir whose state.db is made by running <paramref name="sql"/>, as `sqlite3 state.db &lt; dump.sql` would.</summary>
    public static string StateDirectoryFrom(string scratch, string sql)
    {
        var directory = Path.Combine(scratch, "state");
        Directory.CreateDirectory(directory);
        using var connection = Raw(Path.Combine(directory, "state.db"));
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
        return directory;
    }

    /// <summary>A connection of its own (no pool), so the file is closed when it is disposed.</summary>
    public static SqliteConnection Raw(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static long Scalar(string path, string sql)
    {
        using var connection = Raw(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The file's SHA-256 once every pooled connection the coordinator's code opened on it is closed (so a WAL is
    /// checkpointed and gone): equal hashes mean nothing was written.
    /// </summary>
    public static string Hash(string path)
    {
        using (var pooled = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString()))
        {
            SqliteConnection.ClearPool(pooled);
        }
        return Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
    }

    /// <summary>Every row of every table, ordered by primary key: table → column names and rows.</summary>
    public static Dictionary<string, (string[] Columns, List<object?[]> Rows)> Tables(string path)
    {
        using var connection = Raw(path);
        var tables = new Dictionary<string, (string[], List<object?[]>)>(StringComparer.Ordinal);
        foreach (var table in Strings(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
        {
            var key = Strings(connection, $"SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk");
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\" ORDER BY {(key.Count > 0 ? string.Join(", ", key) : "rowid")}";
            using var reader = command.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetValue(i)).ToArray());
            }
            tables[table] = (columns, rows);
        }
        return tables;
    }

    public static List<string> Strings(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }
}
