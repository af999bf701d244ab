using CertFleet.Agent.Handlers;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;

namespace CertFleet.Agent.Tests.Gates;

/// <summary>The built-in etcd gate and endpoint check against real etcd members (no --health-command).</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdGateTests(EtcdLoopbackCluster etcd)
{
    [Fact]
    public async Task Restart_RenewedEtcdServerCertificate_GatePassesAndEndpointsServeTheNewSerial()
    {
        var root = etcd.NodeRoot("master-1");
        using var agent = new AgentUnderTest(root, restartCommand: etcd.RestartCommand("master-1"), healthCommand: null, gateTimeout: TimeSpan.FromSeconds(30));
        var install = agent.Get<InstallHandler>().Handle(Install(root, "install-etcd-1"));
        Assert.True(install.Ok, install.Message);
        Assert.Equal(["etcd.service"], install.UnitsToRestart);
        var newSerial = Openssl.Serial(Path.Combine(root, "etc/kubernetes/pki/etcd-server.crt"));

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("etcd.service"), StepId = "restart-etcd-1", Unit = "etcd.service" }, CancellationToken.None);

        Assert.True(result.Ok, $"{result.Message}\n{result.ProbeOutput}");
        Assert.Contains("GET https://127.0.10.11:2379/health: 200", result.ProbeOutput);
        Assert.Contains($"etcd client 127.0.10.11:2379: serves serial {newSerial}", result.ProbeOutput, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("etcd peer 127.0.10.11:2380: serves serial", result.ProbeOutput);
        Assert.All(EtcdLoopbackCluster.MasterNames, node => Assert.True(etcd.IsHealthy(node), $"{node} unhealthy"));
    }

    [Fact]
    public async Task Restart_FileOnDiskNotWhatTheMemberServes_EndpointCheckFailsNamingBothSerials()
    {
        // etcd re-reads its certificate files on every handshake, so a member never serves a stale file of its own
        // root. The agent here looks at a copy of master-2's /etc (same unit, same addresses) where a renewed
        // certificate was installed: the member then serves a certificate other than the one in the agent's file.
        var servedSerial = Openssl.Serial(Path.Combine(etcd.NodeRoot("master-2"), "etc/kubernetes/pki/etcd-server.crt"));
        using var copy = new ScratchFolder();
        ProcessRunner.RunChecked("cp", "-a", Path.Combine(etcd.NodeRoot("master-2"), "etc"), copy.Path);
        using var agent = new AgentUnderTest(copy.Path, restartCommand: "true", healthCommand: null, gateTimeout: TimeSpan.FromSeconds(3));
        var install = agent.Get<InstallHandler>().Handle(Install(copy.Path, "install-etcd-2"));
        Assert.True(install.Ok, install.Message);
        var onDisk = Openssl.Serial(Path.Combine(copy.Path, "etc/kubernetes/pki/etcd-server.crt"));
        Assert.NotEqual(servedSerial, onDisk);

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("etcd.service"), StepId = "restart-etcd-2", Unit = "etcd.service" }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains("etcd.service is healthy but does not serve the certificate on disk", result.ProbeOutput);
        Assert.Matches($"(?i)etcd client 127.0.10.12:2379: serves serial {servedSerial}, but /etc/kubernetes/pki/etcd-server.crt holds serial {onDisk}", result.ProbeOutput);
        Assert.Contains("etcd peer 127.0.10.12:2380: serves serial", result.ProbeOutput);
    }

    [Fact]
    public async Task Restart_HealthCommandGiven_ReplacesBuiltInGateAndEndpointCheck()
    {
        var root = etcd.NodeRoot("master-3");
        using var agent = new AgentUnderTest(root, restartCommand: "true", healthCommand: "true", gateTimeout: TimeSpan.FromSeconds(3));
        var install = agent.Get<InstallHandler>().Handle(Install(root, "install-etcd-3"));
        Assert.True(install.Ok, install.Message);

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("etcd.service"), StepId = "restart-etcd-3", Unit = "etcd.service" }, CancellationToken.None);

        Assert.True(result.Ok, result.Message);
        Assert.DoesNotContain("serves serial", result.ProbeOutput);
    }

    private static InstallRequest Install(string root, string stepId)
    {
        var old = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki/etcd-server.crt"));
        return new InstallRequest
        {
            StepId = stepId,
            Replacements = { new Replacement { OldFingerprint = old.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(AgentUnderTest.Renew(root, "etcd-server.crt").Der) } },
        };
    }
}
