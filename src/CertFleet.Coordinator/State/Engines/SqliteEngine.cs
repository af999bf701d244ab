using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State.Engines;

/// <summary>
/// The default engine: &lt;state-dir&gt;/state.db, WAL mode (readers never block the writer), fsync on commit, the
/// schema version in <c>PRAGMA user_version</c>.
/// </summary>
internal sealed class SqliteEngine : StateEngine
{
    private readonly string _connectionString;

    public SqliteEngine(string stateDirectory)
    {
        Location = Path.Combine(stateDirectory, "state.db");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Location, Pooling = true }.ToString();
    }

    public override string Location { get; }

    /// <summary>
    /// Set once, on the first open, after the schema check: even switching the journal mode would change a newer
    /// program's file, so <see cref="StateDatabase"/> checks the version first and then calls this.
    /// </summary>
    public void UseWriteAheadLog()
    {
        using var connection = Open(durable: true);
        // synchronous=FULL: a committed step survives power loss
        connection.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    }

    /// <summary>
    /// A connection whose commits are fsynced (<paramref name="durable"/>), or only written to the WAL: for data the
    /// agents send again anyway (inventory reports, last seen), where a power cut may lose the newest commits but
    /// never the order or the database. An fsync per report capped an inventory round of 2,000 agents at the disk's
    /// fsync rate (docs/PERFORMANCE.md). A later durable commit syncs the earlier ones with it.
    /// </summary>
    public override DbConnection Open(bool durable)
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // set on every open: pooled connections keep the last setting
        connection.Execute(durable
            ? "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"
            : "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
        return connection;
    }

    // IMMEDIATE: the write lock from the start, so two writers take turns instead of one failing at its first write
    public override DbTransaction BeginWrite(DbConnection connection) => ((SqliteConnection)connection).BeginTransaction(deferred: false);

    // one writer at a time already (BEGIN IMMEDIATE): nothing read in a write transaction changes under it
    public override string LockForUpdate => "";

    public override int SchemaVersion(DbConnection connection) =>
        Convert.ToInt32(connection.Scalar("PRAGMA user_version"), CultureInfo.InvariantCulture);

    public override void SetSchemaVersion(DbConnection connection, int version) =>
        connection.Execute($"PRAGMA user_version = {version.ToString(CultureInfo.InvariantCulture)}");

    public override DbTransaction BeginMigration(DbConnection connection) => BeginWrite(connection);

    public override void ApplyStep(DbConnection connection, SchemaMigration migration) => migration.Sqlite((SqliteConnection)connection);

    public override IReadOnlyList<string> DanglingReferences(DbConnection connection) =>
        connection.Read("PRAGMA foreign_key_check", row => row.GetString(0)).Distinct().ToList();

    // a step may rebuild a table that others refer to, which SQLite allows only with the checks off (and only outside
    // a transaction); each step is checked for dangling references before it commits instead
    public override void BeforeMigration(DbConnection connection) => connection.Execute("PRAGMA foreign_keys=OFF");

    public override void AfterMigration(DbConnection connection) => connection.Execute("PRAGMA foreign_keys=ON");

    // one machine: its own clock is the only one
    public override DateTimeOffset Now(DbConnection connection) => DateTimeOffset.UtcNow;
}
