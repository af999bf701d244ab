using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Audit;

public sealed class RolloutAuditTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Run_GateFailsThenAbort_RestartFailureRollbackHaltAndAbortAudited()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.FailingGates[("master-2", "etcd.service")] = "member unhealthy";

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();
        await bed.Admin.AbortAsync(started.Id, CancellationToken.None);

        var events = bed.Audit.Read("master-2", null);
        var failed = Assert.Single(events, e => e.Kind == AuditKinds.RestartFailed);
        Assert.Equal("etcd.service", failed.Path);
        Assert.Contains("did not become healthy", failed.Reason, StringComparison.Ordinal);
        var rolledBack = Assert.Single(events, e => e.Kind == AuditKinds.RolledBack);
        Assert.True(failed.Sequence < rolledBack.Sequence);
        var all = bed.Audit.Read(null, null);
        Assert.Contains(all, e => e.Kind == AuditKinds.RolloutHalted && e.Reason.Contains("master-2", StringComparison.Ordinal));
        Assert.Equal((AuditKinds.RolloutAborted, "admin"), (all[^1].Kind, all[^1].Actor));
    }
}
