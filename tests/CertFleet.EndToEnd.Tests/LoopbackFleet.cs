using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// A loopback cluster (make-cluster-pki.sh --loopback: masters on 127.0.10.x, workers on 127.0.11.x) with real
/// etcd members, a certfleet-coordinator process and one certfleet-agent process per node, each agent restarting
/// units through a script that restarts etcd for real (etcd-member.sh) and records every restart with a timestamp.
/// </summary>
public sealed partial class LoopbackFleet : IAsyncDisposable
{
    public static readonly string[] Masters = ["master-1", "master-2", "master-3"];
    public static readonly string[] Workers = ["worker-1", "worker-2"];

    /// <summary>The role name of the coordinator process in <see cref="Kill"/> and <see cref="RestartAsync"/>; agents go by their node's name.</summary>
    public const string CoordinatorRole = "coordinator";

    private readonly List<Process> _processes = [];
    private readonly Dictionary<Process, string> _logs = [];
    private readonly Dictionary<string, (Process Process, string Program, string[] Arguments)> _roles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPEndPoint> _coordinatorListens = new(StringComparer.Ordinal);

    private LoopbackFleet(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The admin.conf <see cref="Cli"/> uses: the coordinator's own, or in a group one that lists every coordinator.</summary>
    public string AdminConfig => _groupAdminConfig ?? CoordinatorAdminConfig(CoordinatorRole);

    /// <summary>The admin.conf a coordinator wrote in its state folder, naming only itself.</summary>
    public string CoordinatorAdminConfig(string role) => Path.Combine(Directory, role, "admin.conf");

    public string RestartLog => Path.Combine(Directory, "restarts.log");

    public string NodeRoot(string node) => Path.Combine(Directory, node);

    public string Original(string node) => Path.Combine(Directory, "original", node);

    /// <param name="prepare">changes the nodes' files after the fixture made them and before anything starts</param>
    /// <param name="fixtureArguments">more make-cluster-pki.sh options (e.g. --all-expired)</param>
    public static Task<LoopbackFleet> StartAsync(Action<LoopbackFleet>? prepare = null, params string[] fixtureArguments) =>
        StartAsync(group: false, prepare, fixtureArguments);

    private static async Task<LoopbackFleet> StartAsync(bool group, Action<LoopbackFleet>? prepare, string[] fixtureArguments)
    {
        var fleet = new LoopbackFleet(ScratchDirectory.Create("fleet"));
        try
        {
            await fleet.StartInsideAsync(group, prepare, fixtureArguments);
            return fleet;
        }
        catch (Exception e)
        {
            var logs = fleet.Logs();
            await fleet.DisposeAsync();
            throw new InvalidOperationException($"the loopback fleet did not start: {e.Message}\n{logs}", e);
        }
    }

    private async Task StartInsideAsync(bool group, Action<LoopbackFleet>? prepare, string[] fixtureArguments)
    {
        var make = ProcessRunner.Run("bash", [SharedFixtures.MakeClusterPki, "--out", Directory, "--loopback", "--key-type", "ec",
            "--masters", "3", "--workers", "2", .. fixtureArguments], timeout: TimeSpan.FromMinutes(2));
        Assert.True(make.ExitCode == 0, make.Combined);
        prepare?.Invoke(this);
        foreach (var node in Masters.Concat(Workers))
        {
            System.IO.Directory.CreateDirectory(Original(node));
            ProcessRunner.RunChecked("cp", "-a", NodeRoot(node) + "/.", Original(node));
        }
        foreach (var master in Masters)
        {
            var start = ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "start", NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            Assert.True(start.ExitCode == 0, start.Combined);
        }
        WriteUnitScript();
        foreach (var master in Masters)
        {
            var start = ProcessRunner.Run("bash", [ApiServerScript, "restart", NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            Assert.True(start.ExitCode == 0, start.Combined);
        }

        if (group)
        {
            await StartCoordinatorGroupAsync();
        }
        else
        {
            await StartCoordinatorAsync(CoordinatorRole, "127.0.10.1", []);
        }

        foreach (var node in Masters.Concat(Workers))
        {
            var role = node.StartsWith("master", StringComparison.Ordinal) ? "master" : "worker";
            var join = Cli("token", "create", "--node", node, "--role", role, "--print-join-command");
            Assert.True(join.ExitCode == 0, join.Combined);
            var command = join.StandardOutput.Trim().Split('\n')[^1].Split(' ');
            Assert.Equal("certfleet-agent", command[0]);
            var unitScript = Path.Combine(Directory, "unit.sh");
            Start(node, "certfleet-agent", [.. command[1..], "--node", node, "--root", NodeRoot(node),
                "--state-dir", Path.Combine(Directory, "agents", node),
                "--restart-command", $"bash {unitScript} restart {{unit}} {node} {NodeRoot(node)}",
                "--health-command", $"bash {unitScript} health {{unit}} {node} {NodeRoot(node)}"]);
        }
        await WaitUntilEveryAgentReportsAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until `certfleet status` shows every node connected and reported.</summary>
    public Task WaitUntilEveryAgentReportsAsync(TimeSpan limit) => WaitUntil(() =>
    {
        var status = Cli("status", "-o", "json");
        return status.ExitCode == 0 && Masters.Concat(Workers).All(n =>
            status.StandardOutput.Contains($"\"name\": \"{n}\"", StringComparison.Ordinal))
            && !status.StandardOutput.Contains("\"connected\": false", StringComparison.Ordinal)
            && !status.StandardOutput.Contains("\"lastReport\": null", StringComparison.Ordinal);
    }, limit, "every agent to connect and report");

    /// <summary>SIGKILLs the process of <paramref name="role"/> (the coordinator, or a node's agent): a real crash, no cleanup.</summary>
    public void Kill(string role)
    {
        var process = Role(role).Process;
        _paused.Remove(role); // SIGKILL ends a stopped process too
        // only the process itself: a restart command it runs (etcd-member.sh) is left as a real crash would leave it
        process.Kill(entireProcessTree: false);
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"{role} (pid {process.Id}) did not die within 10 s of SIGKILL");
        }
    }

    /// <summary>Starts <paramref name="role"/> again with the arguments (and so the state folder) it had; waits until it serves.</summary>
    public async Task RestartAsync(string role)
    {
        var (process, program, arguments) = Role(role);
        if (!process.HasExited)
        {
            throw new InvalidOperationException($"{role} (pid {process.Id}) still runs; kill it first");
        }
        Start(role, program, arguments);
        if (_coordinatorListens.TryGetValue(role, out var listen))
        {
            await WaitUntil(() => Listening(listen), TimeSpan.FromSeconds(30), $"the restarted {role} to listen");
        }
    }

    /// <summary>Starts a coordinator on a free port of <paramref name="host"/> with the cluster's CAs; waits until it serves.</summary>
    private async Task StartCoordinatorAsync(string role, string host, string[] more)
    {
        var pki = Path.Combine(NodeRoot("master-1"), "etc/kubernetes/pki");
        var listen = _coordinatorListens[role] = new IPEndPoint(IPAddress.Parse(host), FreePort(host));
        Start(role, "certfleet-coordinator", ["--listen", listen.ToString(), "--state-dir", Path.Combine(Directory, role),
            "--ca-cert", Path.Combine(pki, "ca.crt"), "--ca-key", Path.Combine(pki, "ca.key"),
            "--ca-cert", Path.Combine(pki, "front-proxy-ca.crt"), "--ca-key", Path.Combine(pki, "front-proxy-ca.key"), .. more]);
        await WaitUntil(() => File.Exists(CoordinatorAdminConfig(role)) && Listening(listen), TimeSpan.FromSeconds(30), $"{role} to listen");
    }

    private (Process Process, string Program, string[] Arguments) Role(string role) =>
        _roles.TryGetValue(role, out var found) ? found
            : throw new ArgumentException($"no process has the role '{role}'; use {CoordinatorRole}, {SecondCoordinatorRole} (in a group) or a node name", nameof(role));

    /// <summary>
    /// The agents' stand-in for systemctl: etcd restarts for real, other units are recorded only. Restarts of a
    /// node's etcd take turns (flock), as systemd runs one job per unit: an agent SIGKILLed mid-restart leaves its
    /// restart running, and a second one beside it would start a second etcd on the same ports.
    /// </summary>
    private void WriteUnitScript()
    {
        File.WriteAllText(Path.Combine(Directory, "unit.sh"), $$"""
            #!/usr/bin/env bash
            # unit.sh restart|health UNIT NODE ROOT
            set -euo pipefail
            action="$1" unit="${2%.service}" node="$3" root="$4"
            if [ "$action" = restart ]; then
              echo "$(date +%s.%N) $node $unit start" >> '{{RestartLog}}'
              if [ "$unit" = etcd ]; then
                mkdir -p "$root/run"
                # -o: the lock stays with flock itself, never with the etcd it starts
                flock -w 60 -o "$root/run/etcd-unit.lock" bash '{{SharedFixtures.EtcdMember}}' restart "$root"
              elif [ "$unit" = kube-apiserver ]; then
                bash '{{ApiServerScript}}' restart "$root"
              fi
              echo "$(date +%s.%N) $node $unit end" >> '{{RestartLog}}'
            else
              if [ "$unit" = etcd ]; then bash '{{SharedFixtures.EtcdMember}}' health "$root"; fi
              if [ "$unit" = kube-apiserver ]; then bash '{{ApiServerScript}}' health "$root"; fi
            fi
            """);
        // kube-apiserver's stand-in: an openssl s_server on the master's --advertise-address:6443 with its serving pair,
        // asking every client for a certificate and refusing one that does not verify against --client-ca-file as that
        // file was when it (re)started, as the apiserver does; a re-key's gates probe it
        File.WriteAllText(ApiServerScript, """
            #!/usr/bin/env bash
            # apiserver.sh restart|health|stop ROOT
            set -euo pipefail
            action="$1" root="$2" P="$2/etc/kubernetes/pki" pid="$2/run/apiserver.pid"
            mkdir -p "$root/run"
            stop() { if [ -f "$pid" ]; then kill "$(cat "$pid")" 2>/dev/null || true; rm -f "$pid"; sleep 0.2; fi; }
            case "$action" in
              restart)
                stop
                ip=$(sed -n 's/.*--advertise-address=\([0-9.]*\).*/\1/p' "$root/etc/systemd/system/kube-apiserver.service")
                setsid openssl s_server -quiet -www -accept "$ip:6443" -cert "$P/apiserver.crt" -key "$P/apiserver.key" \
                  -CAfile "$P/ca.crt" -Verify 1 -verify_return_error </dev/null >"$root/run/apiserver.log" 2>&1 &
                echo $! > "$pid"
                for _ in $(seq 50); do (echo > "/dev/tcp/$ip/6443") 2>/dev/null && exit 0; sleep 0.1; done
                echo "the kube-apiserver stand-in did not listen on $ip:6443: $(cat "$root/run/apiserver.log")" >&2; exit 1 ;;
              health) kill -0 "$(cat "$pid")" ;;
              stop) stop ;;
            esac
            """);
    }

    private string ApiServerScript => Path.Combine(Directory, "apiserver.sh");

    public ProcessResult Cli(params string[] args) =>
        Programs.Run("certfleet", ["--config", AdminConfig, .. args], timeout: TimeSpan.FromMinutes(5));

    private void Start(string role, string program, params string[] args)
    {
        var info = Programs.StartInfo(program, args);
        var log = Path.Combine(Directory, "logs", $"{program}-{_processes.Count}.log");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var process = Process.Start(info)!;
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { lock (writer) { writer.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (writer) { writer.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        _logs[process] = log;
        _roles[role] = (process, program, args);
    }

    private static bool Listening(IPEndPoint listen)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(listen);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort(string host)
    {
        using var listener = new TcpListener(IPAddress.Parse(host), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <param name="every">how often to look; 250 ms unless a measured moment needs it finer</param>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan limit, string what, TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"waited {limit.TotalSeconds:0} s for {what}");
            }
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(250));
        }
    }

    public string Logs() => string.Join("\n", System.IO.Directory.Exists(Path.Combine(Directory, "logs"))
        ? System.IO.Directory.GetFiles(Path.Combine(Directory, "logs")).Select(f => $"--- {Path.GetFileName(f)}\n{File.ReadAllText(f)}")
        : []);

    /// <summary>The last <paramref name="lines"/> lines of each process's log, for long runs whose full logs would drown a failure.</summary>
    public string LogTails(int lines) => string.Join("\n", System.IO.Directory.Exists(Path.Combine(Directory, "logs"))
        ? System.IO.Directory.GetFiles(Path.Combine(Directory, "logs")).Order(StringComparer.Ordinal)
            .Select(f => $"--- {Path.GetFileName(f)} (last {lines} lines)\n{string.Join("\n", File.ReadLines(f).TakeLast(lines))}")
        : []);

    public async ValueTask DisposeAsync()
    {
        ResumeEveryPaused();
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                // already gone
            }
            process.Dispose();
        }
        foreach (var master in Masters)
        {
            ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "stop", NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            if (File.Exists(ApiServerScript))
            {
                ProcessRunner.Run("bash", [ApiServerScript, "stop", NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            }
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        ScratchDirectory.Delete(Directory);
    }
}
