using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The coordinator's embedded SQLite database (&lt;state-dir&gt;/state.db, WAL mode, fsync on commit), shared by the
/// stores of each area. Opening it brings its schema to the latest version (<see cref="StateSchema"/>), or refuses a
/// database a newer coordinator made (<see cref="StateSchemaException"/>) before anything in it changes.
/// </summary>
public sealed class StateDatabase
{
    private readonly string _connectionString;

    public StateDatabase(string stateDirectory)
    {
        Path = System.IO.Path.Combine(stateDirectory, "state.db");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true }.ToString();
        using var connection = Open();
        // first, while nothing is written: even switching the journal mode would change a newer program's file
        StateSchema.RefuseNewer(connection, Path);
        // WAL: readers never block the writer; synchronous=FULL: a committed step survives power loss.
        connection.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Migrated = StateSchema.Migrate(connection, Path);
    }

    public string Path { get; }

    /// <summary>The schema steps this open applied, oldest first; empty when the database was at the latest version.</summary>
    internal IReadOnlyList<SchemaMigration> Migrated { get; }

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
        // set on every open: pooled connections keep the last setting
        connection.Execute(durable
            ? "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"
            : "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
        return connection;
    }

    /// <summary>One statement on a connection of its own (<see cref="Open(bool)"/>): the rows it changed.</summary>
    internal int Execute(string sql, params (string Name, object? Value)[] parameters) => Execute(durable: true, sql, parameters);

    internal int Execute(bool durable, string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open(durable);
        return connection.Execute(sql, parameters);
    }

    /// <summary>One query on a connection of its own: every row, each made by <paramref name="row"/>.</summary>
    internal List<T> Read<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        return connection.Read(sql, row, parameters);
    }
}
