namespace CertFleet.Coordinator.State.Migrations;

/// <summary>
/// Version 2: one time format in every table. The audit trail stored ISO 8601 text (<see cref="StateTime"/>), the
/// other tables Unix milliseconds; text was kept because it holds both without loss (a millisecond is a whole number
/// of ticks, while the audit's 100 ns ticks would have been cut to whole milliseconds) and because it is what an
/// operator reads in `sqlite3`. Each table is rebuilt with TEXT columns, in its column order (some INSERTs name no
/// columns), and its rows copied with their times converted; rebuilding, not only converting, so the declared
/// types say what the columns hold. PostgreSQL databases were made with text times (version 1's PostgreSQL form):
/// nothing to do there.
/// </summary>
internal static class TimesAsText
{
    public static SchemaMigration Migration { get; } = SchemaMigration.Sql(2, "times as ISO 8601 text in every table", $"""
        CREATE TABLE nodes_v2 (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            enrolled_at TEXT NOT NULL,
            last_seen TEXT,
            last_report TEXT,
            inventory BLOB,
            identity_serial TEXT,
            previous_serial TEXT,
            report_refusal TEXT);
        INSERT INTO nodes_v2 SELECT name, role, {Text("enrolled_at")}, {Text("last_seen")}, {Text("last_report")}, inventory,
            identity_serial, previous_serial, report_refusal FROM nodes;
        DROP TABLE nodes;
        ALTER TABLE nodes_v2 RENAME TO nodes;

        CREATE TABLE enrollment_tokens_v2 (
            hash TEXT PRIMARY KEY,
            node TEXT,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            used_by TEXT);
        INSERT INTO enrollment_tokens_v2 SELECT hash, node, role, {Text("created_at")}, {Text("expires_at")}, {Text("used_at")},
            used_by FROM enrollment_tokens;
        DROP TABLE enrollment_tokens;
        ALTER TABLE enrollment_tokens_v2 RENAME TO enrollment_tokens;

        CREATE TABLE rollouts_v2 (
            id TEXT PRIMARY KEY, created_at TEXT NOT NULL, state TEXT NOT NULL, automatic INTEGER NOT NULL,
            finished_at TEXT, halt_reason TEXT NOT NULL, request BLOB NOT NULL, refused BLOB NOT NULL);
        INSERT INTO rollouts_v2 SELECT id, {Text("created_at")}, state, automatic, {Text("finished_at")}, halt_reason, request,
            refused FROM rollouts;
        DROP TABLE rollouts;
        ALTER TABLE rollouts_v2 RENAME TO rollouts;

        CREATE TABLE rollout_steps_v2 (
            rollout_id TEXT NOT NULL REFERENCES rollouts(id), sequence INTEGER NOT NULL, batch INTEGER NOT NULL,
            kind TEXT NOT NULL, node TEXT NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL,
            probe_output TEXT NOT NULL, started_at TEXT, finished_at TEXT, PRIMARY KEY (rollout_id, sequence));
        INSERT INTO rollout_steps_v2 SELECT rollout_id, sequence, batch, kind, node, unit, state, message, probe_output,
            {Text("started_at")}, {Text("finished_at")} FROM rollout_steps;
        DROP TABLE rollout_steps;
        ALTER TABLE rollout_steps_v2 RENAME TO rollout_steps;
        """, postgres: "SELECT 1");

    /// <summary>
    /// Unix milliseconds as <see cref="StateTime"/> text, in integer arithmetic (a float would round some
    /// milliseconds off by one); NULL stays NULL.
    /// </summary>
    private static string Text(string column) =>
        $"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000, 'unixepoch') || printf('.%03d0000Z', {column} % 1000)";
}
