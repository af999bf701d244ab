namespace CertFleet.Coordinator.State.Migrations;

/// <summary>
/// Version 3: what a coordinator group shares besides the fleet's state (the same SQL on both engines; on SQLite the
/// group is one coordinator, which holds the lease as well, so the code is the same).
/// <list type="bullet">
/// <item><c>coordinator_lease</c>: the one row saying which coordinator is active, until when, and the fencing token
/// it took the lease with (one more at every change of hands).</item>
/// <item><c>coordinators</c>: every coordinator that ran on the database and when it last said it runs.</item>
/// <item><c>coordinator_group</c>: facts the group must agree on; the fleet CA every agent trusts.</item>
/// <item><c>authority_certificates</c>: cluster CA certificates renewed with their own key (only the certificate:
/// the keys are files each coordinator is given), so every coordinator signs with the renewed one.</item>
/// <item><c>nodes.connected_to</c>: the coordinator a node's agent is connected to, so a standby's status says which
/// agents are connected (to the active one) instead of none.</item>
/// </list>
/// </summary>
internal static class CoordinatorGroup
{
    private const string Tables = """
        CREATE TABLE coordinator_lease (
            name TEXT PRIMARY KEY, holder TEXT NOT NULL, fence BIGINT NOT NULL, acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL);
        CREATE TABLE coordinators (
            url TEXT PRIMARY KEY, started_at TEXT NOT NULL, last_seen TEXT NOT NULL);
        CREATE TABLE coordinator_group (
            name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE authority_certificates (
            key_id TEXT PRIMARY KEY, pem TEXT NOT NULL, not_after TEXT NOT NULL, saved_at TEXT NOT NULL);
        ALTER TABLE nodes ADD COLUMN connected_to TEXT;
        """;

    public static SchemaMigration Migration { get; } = SchemaMigration.Sql(3, "the coordinator group's lease, members and shared CA certificates", Tables, Tables);
}
