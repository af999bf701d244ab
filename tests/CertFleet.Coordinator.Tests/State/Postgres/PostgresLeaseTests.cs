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
        var first = await PostgresDatabases.CreateAsync(postgres.Server);
        var second = PostgresDatabases.Open(postgres.Server, first.Path);
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
