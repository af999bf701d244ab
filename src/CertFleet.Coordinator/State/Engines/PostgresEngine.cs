using System.Data;
using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace CertFleet.Coordinator.State.Engines;

/// <summary>
/// State in a PostgreSQL database shared by a coordinator group (<see cref="PostgresLocation"/>). The schema version
/// is a one-row table; migrations take a transaction-scoped advisory lock, so coordinators started together migrate
/// one after the other. The slim data source: the stores use text, bytea and integers only, and it is the builder
/// NativeAOT publishes without trimming warnings.
/// </summary>
internal sealed class PostgresEngine : StateEngine
{
    /// <summary>The advisory lock key of schema migrations (any constant; "cfmi" in ASCII).</summary>
    private const long MigrationLock = 0x63666d69;

    private readonly NpgsqlDataSource _source;

    /// <param name="location">The database.</param>
    /// <param name="stalledTransactionLimit">
    /// A group coordinator's lease duration. A coordinator SIGSTOPped or cut off in the middle of a transaction keeps it
    /// open on a TCP session the server counts as alive, and with it the locks a takeover waits for (the fence, the
    /// lease row): the group would stay without an active coordinator for as long as the stop lasts. The server ends a
    /// session that stays idle inside a transaction this long, which rolls the transaction back. A coordinator stalled
    /// for a whole lease has lost it anyway, so the write it was making was due to fail. Null (`migrate-state`): no limit.
    /// </param>
    public PostgresEngine(PostgresLocation location, TimeSpan? stalledTransactionLimit = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        Location = location.Display;
        var connectionString = new NpgsqlConnectionStringBuilder(location.ConnectionString);
        if (stalledTransactionLimit is { } limit)
        {
            connectionString.Options = $"-c idle_in_transaction_session_timeout={Milliseconds(limit)}";
        }
        _source = new NpgsqlSlimDataSourceBuilder(connectionString.ConnectionString).Build();
    }

    public override string Location { get; }

    public override bool OneWriterAtATime => false;

    // durability is the server's (synchronous_commit); a write that may lose its newest commits relaxes it per transaction
    public override DbConnection Open(bool durable) => _source.OpenConnection();

    public override DbTransaction BeginWrite(DbConnection connection) => connection.BeginTransaction(IsolationLevel.ReadCommitted);

    /// <summary>
    /// For data the agents send again (reports, last seen): the commit returns before the WAL is flushed, like
    /// SQLite's synchronous=NORMAL; a crash of the server may lose the newest, never the order.
    /// </summary>
    public override void RelaxCommit(DbConnection connection) => connection.Execute("SET LOCAL synchronous_commit = off");

    /// <summary>The advisory lock key of writes that take turns ("cftt").</summary>
    private const long TurnLock = 0x63667474;

    public override void TakeTurns(DbConnection connection) => connection.Execute("SELECT pg_advisory_xact_lock(@key)", ("@key", TurnLock));

    public override string KeepIdentity => "OVERRIDING SYSTEM VALUE";

    // the names are the transfer's constants, not input
    public override void AfterIdentityInsert(DbConnection connection, string table, string column) =>
        connection.Execute($"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)");

    /// <summary>The advisory lock key between fenced writes (shared) and a takeover (exclusive): "cffe".</summary>
    private const long FenceLock = 0x63666665;

    // An advisory lock, not a row lock on the lease row: 2,000 writes at once each locking that row FOR KEY SHARE made
    // PostgreSQL build a multixact per locker, and its server used more CPU than the coordinator (the fleet bench).
    public override void HoldOffTakeover(DbConnection connection) =>
        connection.Execute("SELECT pg_advisory_xact_lock_shared(@key)", ("@key", FenceLock));

    // bounded, so a lease round never hangs: a session that holds the lock past it is one the server ends (see the constructor)
    public override void HoldOffWriters(DbConnection connection, TimeSpan limit)
    {
        connection.Execute($"SET LOCAL lock_timeout = {Milliseconds(limit)}");
        connection.Execute("SELECT pg_advisory_xact_lock(@key)", ("@key", FenceLock));
    }

    /// <summary>A server setting's value in milliseconds: 0 would mean "no limit", so never less than 1.</summary>
    private static string Milliseconds(TimeSpan limit) => Math.Max(1, (long)limit.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    public override string LockForUpdate => "FOR UPDATE";

    public override int SchemaVersion(DbConnection connection) =>
        connection.Scalar("SELECT to_regclass('schema_version')::text") is null
            ? 0
            : Convert.ToInt32(connection.Scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version"), CultureInfo.InvariantCulture);

    public override void SetSchemaVersion(DbConnection connection, int version) =>
        connection.Execute("DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (@version)", ("@version", version));

    public override DbTransaction BeginMigration(DbConnection connection)
    {
        var transaction = connection.BeginTransaction(IsolationLevel.ReadCommitted);
        connection.Execute("SELECT pg_advisory_xact_lock(@key)", ("@key", MigrationLock));
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
        return transaction;
    }

    public override void ApplyStep(DbConnection connection, SchemaMigration migration)
    {
        ArgumentNullException.ThrowIfNull(migration);
        connection.Execute(migration.Postgres);
    }

    // PostgreSQL checks references at every statement: a step that broke one has failed already
    public override IReadOnlyList<string> DanglingReferences(DbConnection connection) => [];

    public override DateTimeOffset Now(DbConnection connection) =>
        StateTime.FromText(connection.Scalar("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')") + "0Z");

    public override void Dispose() => _source.Dispose();
}
