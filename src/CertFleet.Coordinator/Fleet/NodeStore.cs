using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using System.Data.Common;

namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// Enrolled nodes in the state database: role, enrollment time, last seen, the last inventory report (protobuf bytes), and the
/// serial of the node's one live identity certificate (an older one, from before a re-enrollment, is refused).
/// </summary>
internal sealed class NodeStore(StateDatabase database, TimeProvider time)
{
    private const string EnrollSql = """
        INSERT INTO nodes (name, role, enrolled_at, identity_serial, previous_serial) VALUES (@name, @role, @now, @serial, @previous)
        ON CONFLICT(name) DO UPDATE SET role = excluded.role, enrolled_at = excluded.enrolled_at,
            identity_serial = excluded.identity_serial, previous_serial = excluded.previous_serial
        """;

    /// <summary>
    /// Records a (re-)enrollment and the serial of the identity just issued, which from now on is the only one
    /// accepted at Connect for this node; a node enrolled again keeps its last report. <paramref name="previousSerial"/>
    /// (renewals only) may still ask for a renewal until the new identity is first seen at Connect.
    /// </summary>
    public void Enroll(string node, NodeRole role, string identitySerial, string? previousSerial = null)
    {
        using var connection = database.Open();
        using var transaction = database.BeginWrite(connection);
        Enroll(connection, node, role, identitySerial, previousSerial);
        transaction.Commit();
    }

    /// <summary><see cref="Enroll(string, NodeRole, string, string?)"/> inside the caller's transaction (a token's use).</summary>
    public void Enroll(DbConnection connection, string node, NodeRole role, string identitySerial, string? previousSerial) =>
        connection.Execute(EnrollSql, ("@name", node), ("@role", NodeRoles.Format(role)), ("@now", Now()), ("@serial", identitySerial),
            ("@previous", previousSerial));

    /// <summary>True when the node is enrolled, read inside the caller's transaction.</summary>
    public static bool Exists(DbConnection connection, string node) =>
        connection.Scalar("SELECT 1 FROM nodes WHERE name = @name", ("@name", node)) is not null;

    /// <summary>The node connected with its newest identity: the one before it may no longer renew.</summary>
    public void ConfirmIdentity(string node) =>
        database.Execute("UPDATE nodes SET previous_serial = NULL WHERE name = @name AND previous_serial IS NOT NULL", ("@name", node));

    // reports and last-seen times are sent again by the agent at every connect: not worth an fsync each
    public void SaveReport(string node, InventoryReport report) => database.Execute(durable: false,
        "UPDATE nodes SET inventory = @inventory, last_report = @now, last_seen = @now, report_refusal = NULL WHERE name = @name",
        ("@name", node), ("@inventory", report.ToByteArray()), ("@now", Now()));

    /// <summary>
    /// The node's newest report was refused (<see cref="InventoryIntake"/>): its last one stays, with why beside it.
    /// The refusal may quote what the node sent: a NUL in it is kept as U+2400 (StateCommands), which PostgreSQL's text refuses.
    /// </summary>
    public void RefuseReport(string node, string refusal) => database.Execute(durable: false,
        "UPDATE nodes SET report_refusal = @refusal, last_seen = @now WHERE name = @name",
        ("@name", node), ("@refusal", refusal), ("@now", Now()));

    /// <summary>The node's agent connected to the coordinator at <paramref name="url"/> (standbys read it for status).</summary>
    public void Connected(string node, string url) => database.Execute(durable: false,
        "UPDATE nodes SET connected_to = @url, last_seen = @now WHERE name = @name", ("@name", node), ("@url", url), ("@now", Now()));

    /// <summary>The node's agent left the coordinator at <paramref name="url"/> (unless it is connected elsewhere by now).</summary>
    public void Disconnected(string node, string url) => database.Execute(durable: false,
        "UPDATE nodes SET connected_to = NULL WHERE name = @name AND connected_to = @url", ("@name", node), ("@url", url));

    public void Touch(string node) => database.Execute(durable: false, "UPDATE nodes SET last_seen = @now WHERE name = @name", ("@name", node), ("@now", Now()));

    public bool Remove(string node) => database.Execute("DELETE FROM nodes WHERE name = @name", ("@name", node)) > 0;

    public StoredNode? Find(string node) => Query("WHERE name = @name", long.MaxValue, ("@name", node)).Nodes.SingleOrDefault();

    public IReadOnlyList<StoredNode> All() => Query("ORDER BY name", long.MaxValue).Nodes;

    /// <summary>
    /// The nodes named after <paramref name="after"/>, at most <paramref name="maxNodes"/> and about
    /// <paramref name="maxBytes"/> of stored reports (one at least), read row by row so a page never loads more.
    /// </summary>
    public (IReadOnlyList<StoredNode> Nodes, bool More) Page(string after, int maxNodes, long maxBytes)
    {
        // one row beyond the page tells whether there is more
        var (nodes, stopped) = Query("WHERE name > @after ORDER BY name LIMIT @limit", maxBytes, ("@after", after), ("@limit", maxNodes + 1L));
        return nodes.Count > maxNodes ? (nodes[..maxNodes], true) : (nodes, stopped);
    }

    /// <summary>The rows, stopping before the one that takes the reports read past <paramref name="maxBytes"/> (Stopped).</summary>
    private (List<StoredNode> Nodes, bool Stopped) Query(string where, long maxBytes, params (string Name, object? Value)[] parameters)
    {
        using var connection = database.Open();
        using var command = connection.Command($"SELECT name, role, enrolled_at, last_seen, last_report, inventory, identity_serial, previous_serial, report_refusal, connected_to FROM nodes {where}", parameters);
        using var reader = command.ExecuteReader();
        var nodes = new List<StoredNode>();
        long bytes = 0;
        while (reader.Read())
        {
            // the length is known before the report is read and parsed
            bytes += reader.IsDBNull(5) ? 0 : reader.GetBytes(5, 0, null, 0, 0);
            if (nodes.Count > 0 && bytes > maxBytes)
            {
                return (nodes, true);
            }
            nodes.Add(new StoredNode(
                reader.GetString(0),
                NodeRoles.Parse(reader.GetString(1)),
                reader.GetTime(2),
                reader.GetTimeOrNull(3),
                reader.GetTimeOrNull(4),
                reader.GetBytesOrNull(5) is { } inventory ? InventoryReport.Parser.ParseFrom(inventory) : null,
                reader.GetStringOrNull(6),
                reader.GetStringOrNull(7),
                reader.GetStringOrNull(8),
                reader.GetStringOrNull(9)));
        }
        return (nodes, false);
    }

    private DateTimeOffset Now() => time.GetUtcNow();
}
