using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CertFleet.Agent;
using CertFleet.Agent.Options;
using CertFleet.Cli.Commands;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Coordinator.Hosting;
using CertFleet.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Cli.Demo;

/// <summary>
/// One demo: a sandbox cluster written by <see cref="SandboxCluster"/>, a coordinator and one agent per node
/// started in this process on loopback, enrolled with real tokens over real mTLS; then the fleet's expiry table,
/// the plan, the rollout with its progress, the table after; then everything stopped and removed.
/// </summary>
internal sealed class DemoRun(CliContext context, bool keep, bool verbose) : IAsyncDisposable
{
    private static readonly SandboxLayout Layout = new(3, 3, "127.0.40", "127.0.41");
    private readonly string _directory = Directory.CreateTempSubdirectory("certfleet-demo-").FullName;
    private readonly List<IHost> _agents = [];
    private readonly bool _realEtcd = SandboxEtcd.IsInstalled();
    private WebApplication? _coordinator;

    private TextWriter Out => context.Output;

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        Out.WriteLine($"CertFleet demo: a sandbox cluster of {Layout.Masters} masters and {Layout.Workers} workers whose certificates "
            + $"expire in {Layout.LeafDaysLeft} days (their CAs in {Layout.CaDaysLeft}), in {_directory}.");
        new SandboxCluster(Layout, context.Time).Write(_directory);
        if (_realEtcd)
        {
            Out.WriteLine($"etcd is installed: the masters run a real 3-member etcd cluster on {Layout.MasterNetwork}.11-13, over mutual TLS.");
            foreach (var master in Masters)
            {
                new SandboxEtcd(master).Start();
            }
        }
        else
        {
            Out.WriteLine("etcd is not installed (apt-get install etcd-server etcd-client): etcd restarts are simulated too.");
        }
        Out.WriteLine("kube-apiserver, the controller-manager, the scheduler, kubelet and kube-proxy are not part of the sandbox: their restarts are simulated.");

        var stateDirectory = Path.Combine(_directory, "coordinator");
        var master1 = Path.Combine(_directory, "master-1", "etc/kubernetes/pki");
        _coordinator = CoordinatorHost.Build(new CoordinatorOptions
        {
            Listen = $"{Layout.MasterNetwork}.1:{FreePort($"{Layout.MasterNetwork}.1")}",
            StateDirectory = stateDirectory,
            ClusterAuthorities =
            [
                new ClusterAuthorityFiles(Path.Combine(master1, "ca.crt"), Path.Combine(master1, "ca.key")),
                new ClusterAuthorityFiles(Path.Combine(master1, "front-proxy-ca.crt"), Path.Combine(master1, "front-proxy-ca.key")),
            ],
        }, Quiet);
        await _coordinator.StartAsync(cancellation);
        var adminConfig = Path.Combine(stateDirectory, "admin.conf");
        Out.WriteLine($"Started certfleet-coordinator; its admin credential is {adminConfig}.");

        using var connection = new CoordinatorConnection(AdminConfigFile.Load(adminConfig));
        await EnrollAgentsAsync(connection.Admin, cancellation);
        await WaitForReportsAsync(connection.Admin, cancellation);

        Section("The fleet before (certfleet status)");
        FleetStatusOutput.WriteTable(Out, await connection.Admin.GetWholeStatusAsync(cancellation), rollout: null, context.Time.GetUtcNow());

        var request = new RolloutRequest { All = true, RenewAuthorities = true };
        Section("The plan (certfleet plan --all --ca)");
        RolloutOutput.WritePlan(Out, await connection.Admin.PlanWholeAsync(request, cancellation), detail: false);

        Section("The rollout (certfleet renew --all --ca --wait)");
        var exitCode = await FleetRenewal.RunAsync(context, connection.Admin, request, wait: true, detail: false, cancellation);

        Section("The fleet after (certfleet status)");
        await WaitForReportsAsync(connection.Admin, cancellation);
        FleetStatusOutput.WriteTable(Out, await connection.Admin.GetWholeStatusAsync(cancellation), rollout: null, context.Time.GetUtcNow());
        if (_realEtcd)
        {
            var (healthy, detail) = await new SandboxEtcd(Masters.First()).CheckAsync(cancellation);
            Out.WriteLine();
            Out.WriteLine($"etcd {(healthy ? "is healthy" : "is NOT healthy")}: {detail}");
        }
        Out.WriteLine();
        Out.WriteLine(exitCode == ExitCodes.Success
            ? $"Done in {clock.Elapsed.TotalSeconds:0} s: every certificate renewed with its existing key, the CAs too, services restarted in the runbook's order."
            : "The rollout did not complete; see above.");
        return exitCode;
    }

    private IEnumerable<string> Masters => Enumerable.Range(1, Layout.Masters).Select(i => Path.Combine(_directory, $"master-{i}"));

    private async Task EnrollAgentsAsync(AdminService.AdminServiceClient admin, CancellationToken cancellation)
    {
        var unitControl = $"{SelfCommand()} demo unit";
        foreach (var node in Layout.Nodes)
        {
            var role = node.StartsWith("master", StringComparison.Ordinal) ? "master" : "worker";
            var token = await admin.CreateTokenAsync(new CreateTokenRequest { Node = node, Role = role }, cancellationToken: cancellation);
            var root = Path.Combine(_directory, node);
            var agent = AgentHost.Build(new AgentOptions
            {
                Coordinator = new Uri(token.CoordinatorUrl),
                Node = node,
                Root = root,
                StateDirectory = Path.Combine(_directory, "agents", node),
                Token = token.Token,
                CaHash = Convert.FromHexString(token.CaHash["sha256:".Length..]),
                RestartCommand = $"{unitControl} restart {{unit}} --root '{root}'",
                HealthCommand = $"{unitControl} health {{unit}} --root '{root}'",
                GateTimeout = TimeSpan.FromSeconds(60),
            }, Quiet);
            await agent.StartAsync(cancellation);
            _agents.Add(agent);
        }
        Out.WriteLine($"Enrolled {_agents.Count} agents with single-use bootstrap tokens (certfleet token create); they talk mTLS to the coordinator.");
    }

    private async Task WaitForReportsAsync(AdminService.AdminServiceClient admin, CancellationToken cancellation)
    {
        var deadline = Stopwatch.StartNew();
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            var status = await admin.GetWholeStatusAsync(cancellation);
            if (status.Nodes.Count == _agents.Count && status.Nodes.All(n => n.Connected && n.LastReport is not null))
            {
                return;
            }
            await Task.Delay(200, cancellation);
        }
        throw new TimeoutException($"the demo's agents did not all connect and report within 60 s (since {since:HH:mm:ss})");
    }

    private void Section(string title)
    {
        Out.WriteLine();
        Out.WriteLine($"== {title}");
    }

    /// <summary>How to run this very program again, for the agents' restart and health commands.</summary>
    private static string SelfCommand()
    {
        var process = Environment.ProcessPath ?? "certfleet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"'{process}' '{Path.Combine(AppContext.BaseDirectory, "certfleet.dll")}'"
            : $"'{process}'";
    }

    private static int FreePort(string address)
    {
        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The demo tells its own story; the hosts' logs would drown it (--verbose shows them).</summary>
    private void Quiet(IServiceCollection services)
    {
        if (!verbose)
        {
            services.AddLogging(logging => logging.ClearProviders());
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.StopAsync(TimeSpan.FromSeconds(5));
            agent.Dispose();
        }
        if (_coordinator is not null)
        {
            await _coordinator.StopAsync(TimeSpan.FromSeconds(5));
            await _coordinator.DisposeAsync();
        }
        foreach (var master in Masters)
        {
            new SandboxEtcd(master).Stop();
        }
        if (keep)
        {
            Out.WriteLine($"Kept {_directory}.");
        }
        else
        {
            Directory.Delete(_directory, recursive: true);
            Out.WriteLine($"Cleaned up: stopped the coordinator, the agents and etcd, and removed {_directory}.");
        }
    }
}
