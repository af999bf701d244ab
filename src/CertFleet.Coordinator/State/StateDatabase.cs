using System.Data.Common;
using CertFleet.Coordinator.State.Engines;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The coordinator's state database, shared by the stores of each area: embedded SQLite (&lt;state-dir&gt;/state.db,
/// the default) or a PostgreSQL database that a coordinator group shares. Opening it brings its schema to the latest
/// version (<see cref="StateSchema"/>), or refuses a database a newer coordinator made (<see cref="StateSchemaException"/>)
/// before anything in it changes. Every write goes through <see cref="BeginWrite"/>, which checks the coordinator's
/// <see cref="Fence"/>: once a coordinator runs on the database, only the one holding the lease writes.
/// </summary>
public sealed class StateDatabase : IDisposable
{
    public StateDatabase(string stateDirectory) : this(new SqliteEngine(stateDirectory))
    {
    }

    internal StateDatabase(StateEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engine = engine;
        using (var connection = Open())
        {
            // first, while nothing is written: even switching SQLite's journal mode would change a newer program's file
            StateSchema.RefuseNewer(engine, connection);
        }
        (engine as SqliteEngine)?.UseWriteAheadLog();
        using (var connection = Open())
        {
            Migrated = StateSchema.Migrate(engine, connection);
        }
    }

    /// <summary>Where the state is: state.db's path, or the PostgreSQL URL without its password.</summary>
    public string Path => Engine.Location;

    internal StateEngine Engine { get; }

    /// <summary>Who may write: the coordinator that holds the lease (<see cref="Group.CoordinatorLease"/>).</summary>
    internal WriteFence Fence { get; } = new();

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

    public DbConnection Open() => Open(durable: true);

    /// <summary>A connection whose commits are fsynced (<paramref name="durable"/>, the default) or may lose the newest on a crash (SqliteEngine.Open).</summary>
    public DbConnection Open(bool durable) => Engine.Open(durable);

    /// <summary>
    /// A write transaction on <paramref name="connection"/> that holds the coordinator's lease until it commits:
    /// it fails with <see cref="LeaseLostException"/>, having written nothing, when another coordinator took the lease
    /// (this one was paused or cut off past its expiry), and on PostgreSQL it keeps the lease row from changing hands
    /// until it commits, so a coordinator taking over reads the state after every write of the one before.
    /// </summary>
    internal DbTransaction BeginWrite(DbConnection connection, bool durable = true)
    {
        var transaction = Engine.BeginWrite(connection);
        try
        {
            if (!durable)
            {
                Engine.RelaxCommit(connection);
            }
            Fence.Check(connection, Engine);
            return transaction;
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
    }

    /// <summary>One statement in a write transaction of its own (<see cref="BeginWrite"/>): the rows it changed.</summary>
    internal int Execute(string sql, params (string Name, object? Value)[] parameters) => Execute(durable: true, sql, parameters);

    internal int Execute(bool durable, string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open(durable);
        using var transaction = BeginWrite(connection, durable);
        var changed = connection.Execute(sql, parameters);
        transaction.Commit();
        return changed;
    }

    /// <summary>One query on a connection of its own: every row, each made by <paramref name="row"/>.</summary>
    internal List<T> Read<T>(string sql, Func<DbDataReader, T> row, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        return connection.Read(sql, row, parameters);
    }

    public void Dispose() => Engine.Dispose();
}
