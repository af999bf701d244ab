using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State.Migrations;

/// <summary>
/// Version 1: the tables as the releases before schema versions left them, when each store ran its own
/// CREATE TABLE IF NOT EXISTS at every start (the SQL below is theirs, verbatim), so that a state dir of those
/// releases (user_version 0) is at version 1 after this step without a row touched, and an empty one gets them.
/// A nodes table from before identity serials and report refusals were kept gets those columns, as those
/// releases added them at start. On PostgreSQL, which those releases never used, the step makes the tables as they
/// are after version 2 (times as text already), so that both engines are the same from version 2 on.
/// </summary>
internal static class UnversionedTables
{
    public static SchemaMigration Migration { get; } = new(1, "the tables of the releases before schema versions", Apply, Postgres);

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS nodes (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            enrolled_at INTEGER NOT NULL,
            last_seen INTEGER,
            last_report INTEGER,
            inventory BLOB,
            identity_serial TEXT,
            previous_serial TEXT,
            report_refusal TEXT);
        CREATE TABLE IF NOT EXISTS enrollment_tokens (
            hash TEXT PRIMARY KEY,
            node TEXT,
            role TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            used_by TEXT);
        CREATE TABLE IF NOT EXISTS rollouts (
            id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, state TEXT NOT NULL, automatic INTEGER NOT NULL,
            finished_at INTEGER, halt_reason TEXT NOT NULL, request BLOB NOT NULL, refused BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS rollout_steps (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), sequence INTEGER NOT NULL, batch INTEGER NOT NULL,
            kind TEXT NOT NULL, node TEXT NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL,
            probe_output TEXT NOT NULL, started_at INTEGER, finished_at INTEGER, PRIMARY KEY (rollout_id, sequence));
        CREATE TABLE IF NOT EXISTS rollout_targets (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), node TEXT NOT NULL, fingerprint TEXT NOT NULL,
            PRIMARY KEY (rollout_id, node, fingerprint));
        CREATE TABLE IF NOT EXISTS rollout_certificates (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), old_fingerprint TEXT NOT NULL, der BLOB NOT NULL,
            PRIMARY KEY (rollout_id, old_fingerprint));
        CREATE TABLE IF NOT EXISTS audit (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            node TEXT NOT NULL,
            path TEXT NOT NULL,
            subject TEXT NOT NULL,
            serial TEXT NOT NULL,
            not_after TEXT,
            previous_serial TEXT NOT NULL,
            reason TEXT NOT NULL,
            rollout_id TEXT NOT NULL,
            detail TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_node ON audit (node, sequence);
        CREATE INDEX IF NOT EXISTS audit_kind ON audit (kind);
        CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """;

    private const string Postgres = """
        CREATE TABLE nodes (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            enrolled_at TEXT NOT NULL,
            last_seen TEXT,
            last_report TEXT,
            inventory BYTEA,
            identity_serial TEXT,
            previous_serial TEXT,
            report_refusal TEXT);
        CREATE TABLE enrollment_tokens (
            hash TEXT PRIMARY KEY,
            node TEXT,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            used_by TEXT);
        CREATE TABLE rollouts (
            id TEXT PRIMARY KEY, created_at TEXT NOT NULL, state TEXT NOT NULL, automatic INTEGER NOT NULL,
            finished_at TEXT, halt_reason TEXT NOT NULL, request BYTEA NOT NULL, refused BYTEA NOT NULL);
        CREATE TABLE rollout_steps (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), sequence INTEGER NOT NULL, batch INTEGER NOT NULL,
            kind TEXT NOT NULL, node TEXT NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL,
            probe_output TEXT NOT NULL, started_at TEXT, finished_at TEXT, PRIMARY KEY (rollout_id, sequence));
        CREATE TABLE rollout_targets (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), node TEXT NOT NULL, fingerprint TEXT NOT NULL,
            PRIMARY KEY (rollout_id, node, fingerprint));
        CREATE TABLE rollout_certificates (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), old_fingerprint TEXT NOT NULL, der BYTEA NOT NULL,
            PRIMARY KEY (rollout_id, old_fingerprint));
        CREATE TABLE audit (
            sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            node TEXT NOT NULL,
            path TEXT NOT NULL,
            subject TEXT NOT NULL,
            serial TEXT NOT NULL,
            not_after TEXT,
            previous_serial TEXT NOT NULL,
            reason TEXT NOT NULL,
            rollout_id TEXT NOT NULL,
            detail TEXT NOT NULL);
        CREATE INDEX audit_node ON audit (node, sequence);
        CREATE INDEX audit_kind ON audit (kind);
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
            'BEGIN RAISE EXCEPTION ''the audit trail is append-only''; END';
        CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
        """;

    private static void Apply(SqliteConnection connection)
    {
        connection.Execute(Tables);
        // SQLite has no ADD COLUMN IF NOT EXISTS: look first (the names are constants, not input)
        foreach (var column in (string[])["identity_serial", "previous_serial", "report_refusal"])
        {
            if (Convert.ToInt64(connection.Scalar("SELECT COUNT(*) FROM pragma_table_info('nodes') WHERE name = @column", ("@column", column)), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                connection.Execute($"ALTER TABLE nodes ADD COLUMN {column} TEXT");
            }
        }
    }
}
