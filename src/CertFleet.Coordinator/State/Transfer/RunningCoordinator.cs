using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State.Transfer;

/// <summary>
/// Whether a coordinator runs on a SQLite state.db: its lease row (coordinator_lease, name 'active') not yet expired.
/// A coordinator renews it while it runs and ends it when it stops (CoordinatorLease.Resign), so an unexpired row is
/// one running, or one killed less than a lease ago. Read on a connection of its own, outside the pool, before the
/// state is opened: opening migrates it, which must not happen under a running coordinator.
/// </summary>
internal static class RunningCoordinator
{
    /// <summary>The lease's holder (a coordinator's URL) and expiry when it is unexpired at <paramref name="now"/>; null when none holds it.</summary>
    public static (string Holder, DateTimeOffset Expires)? Of(string stateDatabase, DateTimeOffset now)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = stateDatabase,
            Mode = SqliteOpenMode.ReadWrite, // never Create: a missing file is the caller's to report
            Pooling = false,
        }.ToString());
        connection.Open();
        // versions before 3 had no lease; a coordinator of such a release writes none
        if (connection.Scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'coordinator_lease'") is null)
        {
            return null;
        }
        var lease = connection.Read("SELECT holder, expires_at FROM coordinator_lease WHERE name = 'active'",
            row => (Holder: row.GetString(0), Expires: row.GetTime(1))).SingleOrDefault();
        return lease.Holder is not null && lease.Expires > now ? lease : null;
    }
}
