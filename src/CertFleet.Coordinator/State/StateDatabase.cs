using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The coordinator's embedded SQLite database (&lt;state-dir&gt;/state.db, WAL mode, fsync on commit), shared by the
/// stores of each area. Each store creates its own tables with CREATE TABLE IF NOT EXISTS.
/// </summary>
public sealed class StateDatabase
{
    private readonly string _connectionString;

    public StateDatabase(string stateDirectory)
    {
        Path = System.IO.Path.Combine(stateDirectory, "state.db");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        // WAL: readers never block the writer; synchronous=FULL: a committed step survives power loss.
        command.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
        command.ExecuteNonQuery();
    }

    public string Path { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;";
        command.ExecuteNonQuery();
        return connection;
    }
}
