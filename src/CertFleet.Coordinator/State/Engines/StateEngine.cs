using System.Data.Common;

namespace CertFleet.Coordinator.State.Engines;

/// <summary>
/// What differs between the two databases the coordinator keeps its state in: how a connection is opened, how a
/// write transaction keeps other writers out, where the schema version is kept, which form of a schema step runs,
/// and whose clock the coordinator lease reads. Everything else (the stores' SQL) is written once, in the SQL both
/// engines speak.
/// </summary>
internal abstract class StateEngine : IDisposable
{
    /// <summary>Where the state is, as an operator names it: state.db's path, or the database URL without its password.</summary>
    public abstract string Location { get; }

    /// <summary>True when writers take turns anyway (SQLite): a store may then keep one writer connection behind a lock.</summary>
    public virtual bool OneWriterAtATime => true;

    public abstract DbConnection Open(bool durable);

    /// <summary>
    /// A transaction that writers take turns in: SQLite's BEGIN IMMEDIATE; on PostgreSQL READ COMMITTED, where the
    /// rows a write depends on are locked by the write's own statements (the lease row FOR SHARE, a token FOR UPDATE).
    /// </summary>
    public abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Inside a write transaction: its commit need not wait for the disk (data the agents send again).</summary>
    public virtual void RelaxCommit(DbConnection connection)
    {
    }

    /// <summary>
    /// Inside a write transaction: no other transaction that takes turns passes this point until this one ends, for
    /// a write that depends on rows that do not exist yet (a new node's name). SQLite's writers take turns already.
    /// </summary>
    public virtual void TakeTurns(DbConnection connection)
    {
    }

    /// <summary>What an INSERT that gives an identity column its value says (PostgreSQL's GENERATED ALWAYS refuses it otherwise).</summary>
    public virtual string KeepIdentity => "";

    /// <summary>After rows were inserted with their identity values: the next generated one follows the highest.</summary>
    public virtual void AfterIdentityInsert(DbConnection connection, string table, string column)
    {
    }

    /// <summary>The locking clause that keeps a row read in a write transaction from changing until it commits.</summary>
    public abstract string LockForUpdate { get; }

    /// <summary>
    /// In a fenced write, before the fencing check reads the lease row: until this write commits, no coordinator can
    /// take the lease over (<see cref="HoldOffWriters"/> waits for it), while the holder's renewals never wait.
    /// </summary>
    public virtual void HoldOffTakeover(DbConnection connection)
    {
    }

    /// <summary>
    /// In a takeover, before the lease row is read: waits for every fenced write in flight, and holds new ones off until
    /// it commits. Past <paramref name="limit"/> it fails (the round is tried again).
    /// </summary>
    public virtual void HoldOffWriters(DbConnection connection, TimeSpan limit)
    {
    }

    public abstract int SchemaVersion(DbConnection connection);

    /// <summary>Runs inside the migration step's transaction.</summary>
    public abstract void SetSchemaVersion(DbConnection connection, int version);

    /// <summary>Keeps a second coordinator migrating the same database out until this one's migration commits.</summary>
    public abstract DbTransaction BeginMigration(DbConnection connection);

    public abstract void ApplyStep(DbConnection connection, SchemaMigration migration);

    /// <summary>Checked after a step, before its commit: the tables that have rows referring to nothing.</summary>
    public abstract IReadOnlyList<string> DanglingReferences(DbConnection connection);

    /// <summary>Around a migration: SQLite must turn its reference checks off to rebuild a table.</summary>
    public virtual void BeforeMigration(DbConnection connection)
    {
    }

    public virtual void AfterMigration(DbConnection connection)
    {
    }

    /// <summary>
    /// The database's clock: the lease's expiry is compared with one clock for every coordinator of a group, so two
    /// machines whose clocks differ cannot both believe they hold it.
    /// </summary>
    public abstract DateTimeOffset Now(DbConnection connection);

    public virtual void Dispose()
    {
    }
}
