using System.Text.Json;
using CertFleet.Agent;
using CertFleet.Agent.Options;
using CertFleet.Coordinator.Hosting;
using CertFleet.Pki.Authorities;
using CertFleet.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// `certfleet renew --dry-run` without --local against a real coordinator on 127.0.141.2 (the cluster CA of the
/// fixture's master-1) and real agents for worker-1 and worker-2 that have reported: it is `certfleet plan` with the
/// same selection, and no rollout starts.
/// </summary>
public sealed class FleetDryRunTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string _state = ScratchDirectory.Create("dry-run");
    private WebApplication _coordinator = null!;
    private readonly List<IHost> _agents = [];

    private string Config => Path.Combine(_state, "coordinator", "admin.conf");

    public async Task InitializeAsync()
    {
        var pkiFolder = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
        _coordinator = CoordinatorHost.Build(new CoordinatorOptions
        {
            Listen = "127.0.141.2:7443",
            StateDirectory = Path.Combine(_state, "coordinator"),
            ClusterAuthorities = [new ClusterAuthorityFiles(Path.Combine(pkiFolder, "ca.crt"), Path.Combine(pkiFolder, "ca.key"))],
        });
        using var timeout = new CancellationTokenSource(Limit);
        await _coordinator.StartAsync(timeout.Token);

        foreach (var node in new[] { "worker-1", "worker-2" })
        {
            var join = await Task.Run(() => CliRun.Invoke("--config", Config, "token", "create", "--node", node, "--print-join-command"));
            Assert.True(join.ExitCode == 0, join.Error);
            var words = join.Output.Trim().Split('\n')[^1].Split(' ');
            string After(string flag) => words[Array.IndexOf(words, flag) + 1];
            var agent = AgentHost.Build(new AgentOptions
            {
                Coordinator = new Uri(After("--coordinator")),
                Node = node,
                Root = pki.CopyNode(node),
                StateDirectory = Path.Combine(_state, node),
                Token = After("--token"),
                CaHash = Convert.FromHexString(After("--ca-hash")["sha256:".Length..]),
                RestartCommand = "true",
                HealthCommand = "true",
            });
            _agents.Add(agent);
            await agent.StartAsync(timeout.Token);
        }
        while (Reported() < _agents.Count)
        {
            await Task.Delay(200, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        foreach (var agent in _agents)
        {
            await agent.StopAsync(timeout.Token);
            agent.Dispose();
        }
        await _coordinator.StopAsync(timeout.Token);
        await _coordinator.DisposeAsync();
        ScratchDirectory.Delete(_state);
    }

    [Fact]
    public async Task RenewAllDryRun_WithoutLocal_PrintsExactlyThePlanAndStartsNoRollout()
    {
        var plan = await Task.Run(() => CliRun.Invoke("--config", Config, "plan", "--all", "--exclude-node", "worker-2"));

        var dryRun = await Task.Run(() => CliRun.Invoke("--config", Config, "renew", "--all", "--exclude-node", "worker-2", "--dry-run"));

        Assert.True(plan.ExitCode == 0, plan.Error);
        // a plan with something to renew (a real renew would start a rollout), and the selection went through
        Assert.Contains("worker-1", plan.Output, StringComparison.Ordinal);
        Assert.Contains("warning: worker-2 is excluded", plan.Output, StringComparison.Ordinal);
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Equal(plan.Output, dryRun.Output);
        Assert.Contains("dry run: this is the plan; no rollout was started", dryRun.Error, StringComparison.Ordinal);
        Assert.Empty(Rollouts());
    }

    [Fact]
    public async Task RenewDryRun_WithTheSelectionOfAPlan_PrintsThatPlan()
    {
        string[] selection = ["--expiring-within", "3650d", "--ca", "--batch", "1"];
        var plan = await Task.Run(() => CliRun.Invoke(["--config", Config, "plan", .. selection]));

        var dryRun = await Task.Run(() => CliRun.Invoke(["--config", Config, "renew", .. selection, "--wait", "--dry-run"]));

        Assert.True(plan.ExitCode == 0, plan.Error);
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Equal(plan.Output, dryRun.Output);
        Assert.Empty(Rollouts());
    }

    /// <summary>How many nodes are connected and have reported.</summary>
    private int Reported()
    {
        var status = CliRun.Invoke("--config", Config, "status", "-o", "json");
        return status.ExitCode != 0 ? 0 : JsonDocument.Parse(status.Output).RootElement.GetProperty("nodes").EnumerateArray()
            .Count(n => n.GetProperty("connected").GetBoolean() && n.GetProperty("lastReport").ValueKind == JsonValueKind.String);
    }

    private List<JsonElement> Rollouts()
    {
        var list = CliRun.Invoke("--config", Config, "rollout", "list", "-o", "json");
        Assert.True(list.ExitCode == 0, list.Error);
        // protobuf's JSON leaves an empty list out
        return JsonDocument.Parse(list.Output).RootElement.TryGetProperty("rollouts", out var rollouts) ? [.. rollouts.EnumerateArray()] : [];
    }
}
