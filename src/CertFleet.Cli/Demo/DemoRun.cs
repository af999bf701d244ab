using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CertFleet.Cli.Commands;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Cli.Demo;

/// <summary>
/// One demo: a sandbox cluster written by <see cref="SandboxCluster"/>, then certfleet-coordinator and one
/// certfleet-agent per node started as processes of their own on loopback (as an operator runs them, each with its
/// log in the sandbox), enrolled with real tokens over real mTLS; then the fleet's expiry table, the plan, the rollout
/// with its progress, the table after (with --rekey-ca, then <see cref="DemoRekeyChapter"/>); then everything stopped
/// and removed.
/// </summary>
internal sealed class DemoRun(CliContext context, DemoProgram coordinatorProgram, DemoProgram agentProgram, bool keep, bool verbose, bool rekeyCa)
    : IAsyncDisposable
{
    private static readonly SandboxLayout Layout = new(3, 3, "127.0.40", "127.0.41");
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("certfleet-demo-").FullName;
    private readonly List<DemoProcess> _agents = [];
    private readonly bool _realEtcd = SandboxEtcd.IsInstalled();
    // --verbose: the programs' log lines arrive on their own threads, between the demo's
    private readonly TextWriter _out = verbose ? TextWriter.Synchronized(context.Output) : context.Output;
    private DemoProcess? _coordinator;

    private TextWriter Out => _out;

    private CliContext Context => context with { Output = _out };

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
        var adminConfig = Path.Combine(stateDirectory, "admin.conf");
        var pki = Path.Combine(_directory, "master-1", "etc/kubernetes/pki");
        var listen = $"{Layout.MasterNetwork}.1:{FreePort($"{Layout.MasterNetwork}.1")}";
        _coordinator = DemoProcess.Start(coordinatorProgram, DemoPrograms.Coordinator,
        [
            "--listen", listen, "--state-dir", stateDirectory,
            "--ca-cert", Path.Combine(pki, "ca.crt"), "--ca-key", Path.Combine(pki, "ca.key"),
            "--ca-cert", Path.Combine(pki, "front-proxy-ca.crt"), "--ca-key", Path.Combine(pki, "front-proxy-ca.key"),
            // never an operator's /etc/certfleet/coordinator.conf
            "--config", "/dev/null",
        ], Path.Combine(_directory, "coordinator.log"), verbose ? Out : null);
        using var connection = await ConnectAsync(adminConfig, cancellation);
        Out.WriteLine($"Started {DemoPrograms.Coordinator} ({coordinatorProgram.Location}) on {listen}; its admin credential is {adminConfig}, "
            + $"its log {_coordinator.LogPath}.");

        await EnrollAgentsAsync(connection.Admin, cancellation);
        await WaitForReportsAsync(connection.Admin, cancellation);

        Section("The fleet before (certfleet status)");
        FleetStatusOutput.WriteTable(Out, await connection.Admin.GetWholeStatusAsync(cancellation), rollout: null, context.Time.GetUtcNow());

        var request = new RolloutRequest { All = true, RenewAuthorities = true };
        Section("The plan (certfleet plan --all --ca)");
        RolloutOutput.WritePlan(Out, await connection.Admin.PlanWholeAsync(request, cancellation), detail: false);

        Section("The rollout (certfleet renew --all --ca --wait)");
        var exitCode = await FleetRenewal.RunAsync(Context, connection.Admin, request, wait: true, detail: false, cancellation);

        Section("The fleet after (certfleet status)");
        await WaitForReportsAsync(connection.Admin, cancellation);
        FleetStatusOutput.WriteTable(Out, await connection.Admin.GetWholeStatusAsync(cancellation), rollout: null, context.Time.GetUtcNow());
        if (_realEtcd)
        {
            var (healthy, detail) = await new SandboxEtcd(Masters.First()).CheckAsync(cancellation);
            Out.WriteLine();
            Out.WriteLine($"etcd {(healthy ? "is healthy" : "is NOT healthy")}: {detail}");
        }
        if (rekeyCa && exitCode == ExitCodes.Success)
        {
            await WaitForReportsAsync(connection.Admin, cancellation);
            var rekeyed = await new DemoRekeyChapter(Context, _directory, Layout, stateDirectory, _realEtcd).RunAsync(connection.Admin, cancellation);
            Out.WriteLine();
            Out.WriteLine(rekeyed
                ? $"Done in {clock.Elapsed.TotalSeconds:0} s: every certificate renewed with its existing key, then every cluster CA given a new key and every leaf re-issued under it."
                : $"The re-key did not complete; see above, and the logs in {_directory} (certfleet demo --rekey-ca --keep keeps them).");
            return rekeyed ? ExitCodes.Success : ExitCodes.ProblemsFound;
        }
        Out.WriteLine();
        Out.WriteLine(exitCode == ExitCodes.Success
            ? $"Done in {clock.Elapsed.TotalSeconds:0} s: every certificate renewed with its existing key, the CAs too, services restarted in the runbook's order."
            : $"The rollout did not complete; see above, and the logs in {_directory} (certfleet demo --keep keeps them).");
        return exitCode;
    }

    private IEnumerable<string> Masters => Enumerable.Range(1, Layout.Masters).Select(i => Path.Combine(_directory, $"master-{i}"));

    /// <summary>The admin connection, once the coordinator has written admin.conf and answers on it.</summary>
    private async Task<CoordinatorConnection> ConnectAsync(string adminConfig, CancellationToken cancellation)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Running(_coordinator!);
            if (File.Exists(adminConfig))
            {
                var connection = new CoordinatorConnection(AdminConfigFile.Load(adminConfig));
                try
                {
                    await connection.Admin.GetStatusAsync(new StatusRequest { PageSize = 1 }, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellation);
                    return connection;
                }
                catch (RpcException) when (deadline.Elapsed < StartLimit)
                {
                    connection.Dispose(); // not listening yet
                }
            }
            if (deadline.Elapsed > StartLimit)
            {
                throw new DemoFailedException($"{DemoPrograms.Coordinator} did not answer within {StartLimit.TotalSeconds:0} s; its last lines ({_coordinator!.LogPath}):\n{_coordinator.Tail(15)}");
            }
            await Task.Delay(100, cancellation);
        }
    }

    private async Task EnrollAgentsAsync(AdminService.AdminServiceClient admin, CancellationToken cancellation)
    {
        var unitControl = $"{SelfCommand()} demo unit";
        var folder = Directory.CreateDirectory(Path.Combine(_directory, "agents")).FullName;
        foreach (var node in Layout.Nodes)
        {
            var role = node.StartsWith("master", StringComparison.Ordinal) ? "master" : "worker";
            var token = await admin.CreateTokenAsync(new CreateTokenRequest { Node = node, Role = role }, cancellationToken: cancellation);
            // in a file, as SECURITY.md advises: a token on the command line is in `ps` for everyone
            var tokenFile = Path.Combine(folder, $"{node}.token");
            File.WriteAllText(tokenFile, token.Token + "\n");
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var root = Path.Combine(_directory, node);
            _agents.Add(DemoProcess.Start(agentProgram, $"{DemoPrograms.Agent} {node}",
            [
                "--coordinator", token.CoordinatorUrl, "--node", node, "--root", root,
                "--state-dir", Path.Combine(folder, node), "--token-file", tokenFile, "--ca-hash", token.CaHash,
                "--restart-command", $"{unitControl} restart {{unit}} --root '{root}'",
                "--health-command", $"{unitControl} health {{unit}} --root '{root}'",
                "--config", "/dev/null",
            ], Path.Combine(folder, $"{node}.log"), verbose ? Out : null));
        }
        Out.WriteLine($"Started {_agents.Count} agents ({agentProgram.Location}), one process per node, each enrolled with a single-use "
            + $"bootstrap token (certfleet token create); they talk mTLS to the coordinator. Their logs are in {folder}.");
    }

    private async Task WaitForReportsAsync(AdminService.AdminServiceClient admin, CancellationToken cancellation)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartLimit)
        {
            Running(_coordinator!);
            _agents.ForEach(Running);
            var status = await admin.GetWholeStatusAsync(cancellation);
            if (status.Nodes.Count == _agents.Count && status.Nodes.All(n => n.Connected && n.LastReport is not null))
            {
                return;
            }
            await Task.Delay(200, cancellation);
        }
        var silent = _agents.FirstOrDefault() is { } first ? $"; the first agent's last lines ({first.LogPath}):\n{first.Tail(15)}" : "";
        throw new DemoFailedException($"the demo's agents did not all connect and report within {StartLimit.TotalSeconds:0} s{silent}");
    }

    /// <summary>A program that stopped on its own stops the demo, with its last words.</summary>
    private static void Running(DemoProcess process)
    {
        if (process.HasExited)
        {
            throw new DemoFailedException(process.ExitDescription());
        }
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

    public async ValueTask DisposeAsync()
    {
        // agents first, as an operator would: a coordinator stopped under them only makes them retry
        await Task.WhenAll(_agents.Select(agent => agent.DisposeAsync().AsTask()));
        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync();
        }
        foreach (var master in Masters)
        {
            new SandboxEtcd(master).Stop();
        }
        if (keep)
        {
            Out.WriteLine($"Kept {_directory} (the programs' logs too).");
        }
        else
        {
            Directory.Delete(_directory, recursive: true);
            Out.WriteLine($"Cleaned up: stopped the coordinator, the agents and etcd, and removed {_directory}.");
        }
    }
}
