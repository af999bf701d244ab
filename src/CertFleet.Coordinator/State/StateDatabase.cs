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

    /// <summary>
    /// Null when SQLite's native library loads; otherwise where it was looked for. The native programs load
    /// libe_sqlite3.so from their own folder (the package installs both in /usr/lib/certfleet); a binary copied alone
    /// would otherwise fail at its first query with a type initializer's stack trace, after making half its state.
    /// </summary>
    public static string? MissingLibrary()
    {
        try
        {
            SQLitePCL.Batteries_V2.Init();
            return null;
        }
        catch (Exception e) when (Chain(e).Any(inner => inner is DllNotFoundException))
        {
            return $"SQLite's library (libe_sqlite3.so) is not in {AppContext.BaseDirectory.TrimEnd('/')}";
        }
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    public SqliteConnection Open() => Open(durable: true);

    /// <summary>Runs a store's CREATE TABLE/INDEX/TRIGGER IF NOT EXISTS statements: its tables, made on first start.</summary>
    public void EnsureSchema(string statements)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = statements;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// A connection whose commits are fsynced (<paramref name="durable"/>, the default), or only written to the WAL:
    /// for data the agents send again anyway (inventory reports, last seen), where a power cut may lose the newest
    /// commits but never the order or the database. An fsync per report capped an inventory round of 2,000 agents
    /// at the disk's fsync rate (docs/PERFORMANCE.md). A later durable commit syncs the earlier ones with it.
    /// </summary>
    public SqliteConnection Open(bool durable)
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        // set on every open: pooled connections keep the last setting
        command.CommandText = durable
            ? "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"
            : "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;";
        command.ExecuteNonQuery();
        return connection;
    }
}
