using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Group;
using CertFleet.Coordinator.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.State.Postgres;

/// <summary>
/// The lease and its fencing token on a real PostgreSQL server, with two coordinators' views of one database (two
/// StateDatabase objects, each with its own connections, as two processes have).
/// </summary>
public sealed class PostgresLeaseTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Round_SecondCoordinator_StandsByUntilTheFirstsLeaseExpires_ThenTakesOverWithAHigherToken()
    {
        using var pair = await TwoCoordinators();
        var (first, second, a, b) = (pair.First, pair.Second, pair.A, pair.B);

        a.Round(atStart: true);
        b.Round(atStart: true);

        Assert.True(a.IsActive);
        Assert.False(b.IsActive);
        Assert.Equal("https://127.0.0.1:9443", b.ActiveUrl);
        var firstToken = first.Fence.Current!.Token;

        await Task.Delay(Short + TimeSpan.FromMilliseconds(300));
        b.Round();

        Assert.True(b.IsActive);
        Assert.True(second.Fence.Current!.Token > firstToken);
    }

    [Fact]
    public async Task Append_AfterAnotherCoordinatorTookTheLease_WritesNothingAndStepsDown()
    {
        using var pair = await TwoCoordinators();
        var (first, second, a, b) = (pair.First, pair.Second, pair.A, pair.B);
        a.Round(atStart: true);
        using var auditA = new AuditLog(first, TimeProvider.System, NullLogger<AuditLog>.Instance);
        auditA.Append(new AuditRecord(AuditKinds.NodeRemoved, "admin") { Node = "before" });
        // the first is "paused" past its lease: it does not renew, and the second takes over
        await Task.Delay(Short + TimeSpan.FromMilliseconds(300));
        b.Round();
        Assert.True(b.IsActive);
        var steppedDown = false;
        a.SteppedDown += () => steppedDown = true;

        Assert.Throws<LeaseLostException>(() => auditA.Append(new AuditRecord(AuditKinds.NodeRemoved, "admin") { Node = "after" }));

        Assert.True(steppedDown);
        Assert.False(a.IsActive);
        using var auditB = new AuditLog(second, TimeProvider.System, NullLogger<AuditLog>.Instance);
        Assert.Equal(["before"], auditB.Read(null, null).Select(e => e.Node));
    }

    /// <summary>
    /// The first is SIGSTOPped in the middle of a transaction: a fenced write (it holds the fence a takeover waits
    /// for) or a renewal (it holds the lease row), open on a TCP session the server counts as alive for as long as the
    /// stop lasts. The takeover must not wait for it forever (it did: the group stayed without an active coordinator),
    /// and the stalled transaction must never commit.
    /// </summary>
    [Theory]
    [InlineData("INSERT INTO coordinator_group (name, value) VALUES ('stalled', 'a paused write')", true)]
    [InlineData("UPDATE coordinator_lease SET expires_at = expires_at WHERE name = 'active'", false)]
    public async Task Round_AfterTheExpiredHolderStalledInTheMiddleOfATransaction_TakesOverAndThatTransactionNeverCommits(string stalledStatement, bool fenced)
    {
        using var pair = await TwoCoordinators();
        var (first, second, a, b) = (pair.First, pair.Second, pair.A, pair.B);
        a.Round(atStart: true);
        using var stalled = first.Open();
        using var transaction = fenced ? first.BeginWrite(stalled) : stalled.BeginTransaction();
        stalled.Execute(stalledStatement);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        while (!b.IsActive && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Run(() => b.Round()).WaitAsync(TimeSpan.FromSeconds(20));
            await Task.Delay(b.Period);
        }

        Assert.True(b.IsActive, $"the standby did not take the lease over in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(clock.Elapsed < 4 * Short, $"the takeover took {clock.Elapsed.TotalSeconds:0.0} s after a {Short.TotalSeconds:0} s lease");
        Assert.ThrowsAny<System.Data.Common.DbException>(() =>
        {
            stalled.Execute("SELECT 1");
            transaction.Commit();
        });
        Assert.Equal(0L, second.Read("SELECT COUNT(*) FROM coordinator_group WHERE name = 'stalled'", row => row.GetInt64(0)).Single());
        Assert.Equal(b.Url, second.Read("SELECT holder FROM coordinator_lease", row => row.GetString(0)).Single());
    }

    [Fact]
    public async Task Write_OnAStandby_IsRefusedBeforeAnythingIsWritten()
    {
        using var pair = await TwoCoordinators();
        var (first, second, a, b) = (pair.First, pair.Second, pair.A, pair.B);
        a.Round(atStart: true);
        b.Round(atStart: true);
        using var auditB = new AuditLog(second, TimeProvider.System, NullLogger<AuditLog>.Instance);

        var refused = Assert.Throws<LeaseLostException>(() => auditB.Append(new AuditRecord(AuditKinds.NodeRemoved, "admin") { Node = "standby" }));

        Assert.Contains("standby", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, auditB.LastSequence());
    }

    private static CoordinatorLease Lease(StateDatabase database, string url) =>
        new(database, url, Short, NullLogger<CoordinatorLease>.Instance);

    /// <summary>Two coordinators' views of one new database, each with its lease (not taken yet), as two processes have.</summary>
    private async Task<Pair> TwoCoordinators()
    {
        var first = await PostgresDatabases.CreateAsync(postgres.Server, stalledTransactionLimit: Short);
        var second = PostgresDatabases.Open(postgres.Server, first.Path, Short);
        return new Pair(first, second, Lease(first, "https://127.0.0.1:9443"), Lease(second, "https://127.0.0.2:9443"));
    }

    private sealed record Pair(StateDatabase First, StateDatabase Second, CoordinatorLease A, CoordinatorLease B) : IDisposable
    {
        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
            First.Dispose();
            Second.Dispose();
        }
    }
}
