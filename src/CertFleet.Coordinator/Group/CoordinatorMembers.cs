using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Coordinator.Group;

/// <summary>
/// The coordinators of the group as the shared database knows them: each records itself at start and at every lease
/// round (last seen), and `certfleet status` lists them with the lease holder as active. These rows are written by
/// standbys too, outside the fence: they say a coordinator runs, not anything about the fleet.
/// </summary>
internal sealed class CoordinatorMembers(StateDatabase database, CoordinatorLease lease)
{
    /// <summary>How many members status lists at most: a database written by something else cannot flood the answer.</summary>
    public const int MaxListed = 64;

    public void Record(DateTimeOffset? startedAt = null)
    {
        using var connection = database.Open(durable: false);
        using var transaction = database.Engine.BeginWrite(connection);
        database.Engine.RelaxCommit(connection);
        var now = database.Engine.Now(connection);
        connection.Execute("""
            INSERT INTO coordinators (url, started_at, last_seen) VALUES (@url, @started, @now)
            ON CONFLICT (url) DO UPDATE SET last_seen = excluded.last_seen, started_at = COALESCE(@restarted, coordinators.started_at)
            """,
            ("@url", lease.Url), ("@started", startedAt ?? now), ("@now", now), ("@restarted", startedAt));
        transaction.Commit();
    }

    /// <summary>The other coordinators seen in the last three lease durations: those that may take over from this one.</summary>
    public IReadOnlyList<string> OthersRunning()
    {
        using var connection = database.Open();
        var since = database.Engine.Now(connection) - 3 * lease.Duration;
        return connection.Read("SELECT url FROM coordinators WHERE url <> @url AND last_seen > @since ORDER BY url LIMIT @limit",
            row => row.GetString(0), ("@url", lease.Url), ("@since", since), ("@limit", (long)MaxListed));
    }

    /// <summary>Every member, the active one first, then by URL; this coordinator marked as the one answering.</summary>
    public IReadOnlyList<CoordinatorMember> List()
    {
        using var connection = database.Open();
        var holder = connection.Read("SELECT holder, expires_at FROM coordinator_lease WHERE name = 'active'",
            row => (Holder: row.GetString(0), Expires: row.GetTime(1))).SingleOrDefault();
        var now = database.Engine.Now(connection);
        var active = holder.Holder is not null && holder.Expires > now ? holder.Holder : null;
        var members = connection.Read("SELECT url, last_seen FROM coordinators ORDER BY url LIMIT @limit",
            row => new CoordinatorMember
            {
                Url = row.GetString(0),
                LastSeen = Timestamp.FromDateTimeOffset(row.GetTime(1)),
            },
            ("@limit", (long)MaxListed));
        foreach (var member in members)
        {
            member.Role = member.Url == active ? "active" : "standby";
            member.Answering = member.Url == lease.Url;
        }
        return [.. members.OrderBy(m => m.Role != "active").ThenBy(m => m.Url, StringComparer.Ordinal)];
    }
}
