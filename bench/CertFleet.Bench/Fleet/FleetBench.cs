using System.Diagnostics;
using CertFleet.Bench.Output;
using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Bench.Fleet;

/// <summary><paramref name="Coordinator"/>: a published certfleet-coordinator binary; null: the built one, run with dotnet.
/// <paramref name="Cli"/>: a `certfleet` binary; given, the plan and the renewal are also made through it, as an operator would.
/// <paramref name="Engine"/>: where the coordinator keeps its state (<see cref="FleetDatabase"/>).
/// <paramref name="LeaseDuration"/>: the coordinator's --lease-duration, or null for its default (a diagnosis, not the shipped setting).</summary>
internal sealed record FleetBenchOptions(int Agents, string Address, int Port, int BatchSize, string? Coordinator = null, string? Cli = null,
    FleetEngine Engine = FleetEngine.Sqlite, string? LeaseDuration = null);

/// <summary>
/// One real coordinator process and N simulated agents in this process (real gRPC over loopback, mTLS with
/// identities enrolled through tokens): connect, one full inventory round (Plan asks every connected agent for a
/// fresh report), and a rollout that renews every node's certificates with no-op restarts in batches.
/// </summary>
internal static class FleetBench
{
    private const int EnrollConcurrency = 8;
    private const int ConnectConcurrency = 64;
    private static readonly TimeSpan PhaseLimit = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static async Task RunAsync(FleetBenchOptions options)
    {
        CoordinatorProcess.CheckPublished(options.Coordinator); // before anything is made or kept
        var directory = Directory.CreateTempSubdirectory("certfleet-bench-fleet-").FullName;
        var logPath = Path.Combine(directory, "coordinator.log");
        var agents = new List<SimulatedAgent>();
        FleetDatabase? database = null;
        using var everything = new CancellationTokenSource(PhaseLimit * 4);
        var token = everything.Token;
        var failed = true;
        try
        {
            var clock = Stopwatch.StartNew();
            using var caKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            using var ca = SyntheticPki.Authority("kubernetes", caKey);
            var caPath = Path.Combine(directory, "ca.crt");
            var caKeyPath = Path.Combine(directory, "ca.key");
            File.WriteAllText(caPath, ca.ExportCertificatePem());
            File.WriteAllText(caKeyPath, SyntheticPki.PrivateKeyPem(caKey));
            File.SetUnixFileMode(caKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var nodes = new SimulatedNode[options.Agents];
            Parallel.For(0, options.Agents, i => nodes[i] = SimulatedNode.Create($"worker-{i + 1:00000}", ca));
            ResultLine.Note($"made {options.Agents} nodes' PKI in-process in {clock.Elapsed.TotalSeconds:0.0} s");

            database = await FleetDatabase.StartAsync(options.Engine, options.Address).ConfigureAwait(false);
            ResultLine.Note($"state engine: {FleetDatabase.Name(options.Engine)} {string.Join(' ', database.CoordinatorArguments)}".TrimEnd());
            var serverCpuAtStart = database.ServerCpuSeconds();
            using var coordinator = await CoordinatorProcess.StartAsync(options.Coordinator, options.Address, options.Port,
                Path.Combine(directory, "state"), caPath, caKeyPath,
                [.. database.CoordinatorArguments, .. options.LeaseDuration is { } lease ? new[] { "--lease-duration", lease } : []], logPath).ConfigureAwait(false);
            var idleRss = coordinator.ResidentMiB().Current;
            using var admin = new AdminClient(Path.Combine(directory, "state", "admin.conf"));
            agents.AddRange(nodes.Select(n => new SimulatedAgent(n, admin.FleetCa)));

            var cpu = coordinator.CpuSeconds();
            var serverCpu = database.ServerCpuSeconds();
            string CpuSince()
            {
                var now = coordinator.CpuSeconds();
                var used = now - cpu;
                cpu = now;
                if (database.ServerCpuSeconds() is not { } serverNow)
                {
                    return $"coordinator CPU {used:0.0} s";
                }
                var serverUsed = serverNow - serverCpu!.Value;
                serverCpu = serverNow;
                return $"coordinator CPU {used:0.0} s, PostgreSQL server CPU {serverUsed:0.0} s";
            }
            var enrollSeconds = await TimedAsync(() => EnrollAsync(admin, agents, token)).ConfigureAwait(false);
            ResultLine.Note($"enrolled {agents.Count} agents with tokens in {enrollSeconds:0.0} s; {CpuSince()}");

            var connectSeconds = await TimedAsync(async () =>
            {
                await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = ConnectConcurrency, CancellationToken = token },
                    async (agent, cancel) => await agent.ConnectAsync(admin.Server, token).ConfigureAwait(false)).ConfigureAwait(false);
                await UntilAsync(admin, coordinator, nodes => nodes.Count(n => n.Connected && n.LastReport is not null) == agents.Count,
                    "every agent connected and reported", token).ConfigureAwait(false);
            }).ConfigureAwait(false);
            ResultLine.Note($"connected {agents.Count} agents in {connectSeconds:0.00} s; {CpuSince()}");

            RolloutPlan? plan = null;
            var inventorySeconds = await TimedAsync(async () =>
                plan = await admin.Admin.PlanAsync(new RolloutRequest { All = true }, deadline: Deadline(), cancellationToken: token)).ConfigureAwait(false);
            Check(plan!.Certificates.Count == 2 * agents.Count,
                $"the inventory round planned {plan.Certificates.Count} certificates, not {2 * agents.Count}: {string.Join("; ", plan.Warnings.Take(5))}");
            ResultLine.Note($"inventory round (Plan: a fresh report from every agent) in {inventorySeconds:0.00} s, {plan.Steps.Count} steps planned; {CpuSince()}");

            var adminConfig = Path.Combine(directory, "state", "admin.conf");
            if (options.Cli is { } cli)
            {
                foreach (var command in new[] { "plan --all", "plan --all --detail", "plan --all -o json" })
                {
                    var run = await CliRun.RunAsync(cli, adminConfig, command.Split(' '), token).ConfigureAwait(false);
                    Check(run.ExitCode == 0, $"certfleet {command} exited {run.ExitCode}: {run.Error}");
                    ResultLine.Note(run.Describe(command) + (command == "plan --all" ? "; it begins:\n" + run.Head : ""));
                }
            }

            var renewStart = DateTimeOffset.UtcNow;
            Rollout? rollout = null;
            var renewSeconds = await TimedAsync(async () =>
            {
                if (options.Cli is { } cli)
                {
                    string[] renew = ["renew", "--all", "--wait", .. options.BatchSize > 0 ? new[] { "--batch", options.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture) } : []];
                    var run = await CliRun.RunAsync(cli, adminConfig, renew, token).ConfigureAwait(false);
                    ResultLine.Note(run.Describe(string.Join(' ', renew)) + "; it ended:\n" + run.Head);
                    Check(run.ExitCode == 0, $"certfleet renew --all --wait exited {run.ExitCode}: {run.Error}");
                    var newest = await admin.Admin.ListRolloutsAsync(new ListRolloutsRequest { PageSize = 1 }, deadline: Deadline(), cancellationToken: token);
                    rollout = await admin.Admin.GetRolloutAsync(new RolloutId { Id = newest.Rollouts.Single().Id }, deadline: Deadline(), cancellationToken: token);
                    return;
                }
                rollout = await admin.Admin.StartRolloutAsync(new RolloutRequest { All = true, BatchSize = options.BatchSize },
                    deadline: Deadline(), cancellationToken: token);
                rollout = await UntilDoneAsync(admin, coordinator, rollout.Id, token).ConfigureAwait(false);
            }).ConfigureAwait(false);
            Check(rollout!.State == RolloutState.Completed, $"rollout {rollout.Id} ended {rollout.State.ToText()}: {rollout.HaltReason}");
            var renewed = nodes.Sum(n => n.RenewedAfter(renewStart.AddDays(300)));
            Check(renewed == 2 * agents.Count, $"{renewed} of {2 * agents.Count} certificates were renewed on the agents");
            ResultLine.Note($"renewed {renewed} certificates on {agents.Count} nodes ({rollout.Steps.Count} steps, "
                + $"{rollout.Steps.Select(s => s.Batch).Distinct().Count()} batches) in {renewSeconds:0.00} s; {CpuSince()}");

            var (rss, peak) = coordinator.ResidentMiB();
            var coordinatorCpu = coordinator.CpuSeconds();
            ResultLine.Note($"coordinator: {idleRss:0} MiB idle, {rss:0} MiB now, {peak:0} MiB peak; {coordinatorCpu:0.0} CPU s in all");
            (string, object)[] fields = [("engine", FleetDatabase.Name(options.Engine)), ("leaseDuration", options.LeaseDuration ?? "default"), ("agents", agents.Count), ("connectSeconds", connectSeconds),
                ("inventorySeconds", inventorySeconds), ("renewSeconds", renewSeconds), ("coordinatorRssMiB", peak), ("coordinatorRssNowMiB", rss),
                ("coordinatorCpuSeconds", coordinatorCpu), ("enrollSeconds", enrollSeconds), ("steps", rollout.Steps.Count)];
            if (database.ServerCpuSeconds() is { } serverCpuNow)
            {
                // from the coordinator's start, as coordinatorCpuSeconds is (the server's own start and CREATE DATABASE are left out)
                ResultLine.Note($"PostgreSQL server: {serverCpuNow - serverCpuAtStart!.Value:0.0} CPU s since the coordinator started");
                fields = [.. fields, ("postgresqlCpuSeconds", serverCpuNow - serverCpuAtStart!.Value)];
            }
            failed = false;
            ResultLine.Print(fields);
        }
        finally
        {
            await Task.WhenAll(agents.Select(a => a.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            if (database is not null)
            {
                if (failed && database.LogTail.Trim() is { Length: > 0 } serverLog)
                {
                    ResultLine.Note("the PostgreSQL server's log ends:\n" + serverLog);
                }
                await database.DisposeAsync().ConfigureAwait(false);
            }
            if (failed)
            {
                ResultLine.Note($"kept {directory} (coordinator log: {logPath})");
            }
            else
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static async Task EnrollAsync(AdminClient admin, List<SimulatedAgent> agents, CancellationToken token)
    {
        using var anonymous = SimulatedAgent.Channel(admin.Server, admin.FleetCa, identity: null);
        var client = new AgentService.AgentServiceClient(anonymous);
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = EnrollConcurrency, CancellationToken = token },
            async (agent, cancel) =>
            {
                var created = await admin.Admin.CreateTokenAsync(new CreateTokenRequest { Node = agent.Node.Name, Role = "worker", TtlSeconds = 7200 },
                    deadline: Deadline(), cancellationToken: cancel);
                await agent.EnrollAsync(client, created.Token, cancel).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    private static async Task UntilAsync(AdminClient admin, CoordinatorProcess coordinator, Func<IReadOnlyList<NodeStatus>, bool> done,
        string what, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (!done(await AllNodesAsync(admin, token).ConfigureAwait(false)))
        {
            CheckActive(coordinator, what);
            Check(clock.Elapsed < PhaseLimit, $"waited {PhaseLimit.TotalMinutes} min for {what}");
            await Task.Delay(Poll, token).ConfigureAwait(false);
        }
    }

    /// <summary>Every node's status: GetStatus answers a page (500 nodes) at a time.</summary>
    private static async Task<IReadOnlyList<NodeStatus>> AllNodesAsync(AdminClient admin, CancellationToken token)
    {
        var nodes = new List<NodeStatus>();
        var request = new StatusRequest();
        do
        {
            var page = await admin.Admin.GetStatusAsync(request, deadline: Deadline(), cancellationToken: token);
            nodes.AddRange(page.Nodes);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);
        return nodes;
    }

    private static async Task<Rollout> UntilDoneAsync(AdminClient admin, CoordinatorProcess coordinator, string id, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var rollout = await admin.Admin.GetRolloutAsync(new RolloutId { Id = id }, deadline: Deadline(), cancellationToken: token);
            if (rollout.State != RolloutState.Running)
            {
                return rollout;
            }
            CheckActive(coordinator, $"rollout {id} ({rollout.Steps.Count(s => s.State == StepState.Succeeded)} of {rollout.Steps.Count} steps done)");
            Check(clock.Elapsed < PhaseLimit, $"rollout {id} still running after {PhaseLimit.TotalMinutes} min "
                + $"({rollout.Steps.Count(s => s.State == StepState.Succeeded)} of {rollout.Steps.Count} steps done)");
            await Task.Delay(Poll, token).ConfigureAwait(false);
        }
    }

    private static async Task<double> TimedAsync(Func<Task> phase)
    {
        var clock = Stopwatch.StartNew();
        await phase().ConfigureAwait(false);
        return clock.Elapsed.TotalSeconds;
    }

    private static void CheckActive(CoordinatorProcess coordinator, string what) =>
        Check(coordinator.SteppedDown is null, $"the coordinator stepped down to standby while waiting for {what}: {coordinator.SteppedDown}");

    private static DateTime Deadline() => DateTime.UtcNow + PhaseLimit;

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new BenchException(problem);
        }
    }
}
