using System.Net.Sockets;
using System.Text.Json;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>One master and one worker, for tests that run real agent processes.</summary>
public sealed class SmallFleetPkiFixture() : ClusterPkiFixture("ec", "--masters", "1", "--workers", "1");

/// <summary>
/// The real certfleet-coordinator process SIGKILLed while a restart step is in flight (a real agent's restart
/// command blocks until the test has killed it), then started again on the same state directory: the rollout
/// goes on to completion, nothing installed twice, every certificate renewed and valid. Loopback 127.0.48.2.
/// </summary>
public sealed class CoordinatorKillTests(SmallFleetPkiFixture fixture) : IClassFixture<SmallFleetPkiFixture>, IDisposable
{
    private const string Address = "127.0.48.2";
    private const int Port = 7481;
    private static readonly string[] Nodes = ["master-1", "worker-1"];
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private readonly string _directory = ScratchDirectory.Create("coordinator-kill");
    private readonly List<ProgramProcess> _processes = [];

    private string StateDirectory => Path.Combine(_directory, "coordinator");

    private string AdminConfig => Path.Combine(StateDirectory, "admin.conf");

    private string NodeRoot(string node) => Path.Combine(_directory, node);

    [Fact]
    public async Task Rollout_CoordinatorKilledMidRestart_ResumesAfterRestartAndCompletesWithEveryCertificateRenewedOnce()
    {
        foreach (var node in Nodes)
        {
            Directory.CreateDirectory(NodeRoot(node));
            ProcessRunner.RunChecked("cp", "-a", fixture.NodeRoot(node) + "/.", NodeRoot(node));
        }
        var blocked = Path.Combine(_directory, "blocked");
        var released = Path.Combine(_directory, "released");
        var restarts = Path.Combine(_directory, "restarts.log");
        var script = Path.Combine(_directory, "unit.sh");
        File.WriteAllText(script, $$"""
            #!/usr/bin/env bash
            # unit.sh UNIT NODE: records the restart; the controller-manager's blocks until the test releases it
            echo "$2 $1" >> '{{restarts}}'
            if [ "$2 $1" = "master-1 kube-controller-manager.service" ] && [ ! -e '{{released}}' ]; then
              touch '{{blocked}}'
              for _ in $(seq 1 1200); do [ -e '{{released}}' ] && break; sleep 0.1; done
            fi
            """);
        var coordinator = StartCoordinator();
        await WaitUntil(() => File.Exists(AdminConfig) && Listening(), "the coordinator to listen");
        foreach (var node in Nodes)
        {
            StartAgent(node, script);
        }
        await WaitUntil(() => Nodes.All(n => Status().Contains($"\"name\": \"{n}\"", StringComparison.Ordinal))
            && !Status().Contains("\"connected\": false", StringComparison.Ordinal)
            && !Status().Contains("\"lastReport\": null", StringComparison.Ordinal), "both agents to enroll and report");

        var renew = Cli("renew", "--all");
        Assert.True(renew.ExitCode == 0, renew.Combined);
        var id = renew.StandardOutput.Split(' ', '\n').SkipWhile(w => w != "rollout").Skip(1).First();
        await WaitUntil(() => File.Exists(blocked), "the controller-manager restart to be in flight");
        coordinator.Kill();
        File.WriteAllText(released, "");
        StartCoordinator();

        await WaitUntil(() => State(id) is "completed" or "halted", "the rollout to finish after the restart");
        Assert.True(State(id) == "completed", Cli("rollout", "show", id).Combined + Logs());
        foreach (var row in fixture.Manifest().Where(r => Nodes.Contains(r.Node) && r.Subject != r.Issuer))
        {
            var renewed = NodeRoot(row.Node) + row.Path;
            var issuer = NodeRoot(row.Node) + (row.Issuer == "CN=front-proxy-ca" ? "/etc/kubernetes/pki/front-proxy-ca.crt" : "/etc/kubernetes/pki/ca.crt");
            var verify = Openssl.Verify(issuer, renewed);
            Assert.True(verify.ExitCode == 0, $"{row.Node}:{row.Path}: {verify.Combined}");
            Assert.NotEqual(Openssl.Serial(fixture.NodeRoot(row.Node) + row.Path), Openssl.Serial(renewed));
            Assert.Equal(Openssl.PublicKey(fixture.NodeRoot(row.Node) + row.Path), Openssl.PublicKey(renewed));
        }
        foreach (var node in Nodes)
        {
            // one install per node: a second one would have backed up the renewed files again
            var backups = Path.Combine(NodeRoot(node), "var/lib/certfleet/backups");
            Assert.Single(Directory.GetDirectories(backups));
        }
        var restarted = File.ReadAllLines(restarts).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(restarted.Where(r => r.Key != "master-1 kube-controller-manager.service"), r => Assert.Equal(1, r.Value));
        Assert.InRange(restarted["master-1 kube-controller-manager.service"], 1, 2); // a restart in flight may be redone
        Assert.Contains("worker-1 kubelet.service", restarted.Keys);
    }

    private ProgramProcess StartCoordinator()
    {
        var pki = Path.Combine(NodeRoot("master-1"), "etc/kubernetes/pki");
        var process = ProgramProcess.Start("certfleet-coordinator", Path.Combine(_directory, $"coordinator-{_processes.Count}.log"),
            "--listen", $"{Address}:{Port}", "--state-dir", StateDirectory,
            "--ca-cert", Path.Combine(pki, "ca.crt"), "--ca-key", Path.Combine(pki, "ca.key"),
            "--ca-cert", Path.Combine(pki, "front-proxy-ca.crt"), "--ca-key", Path.Combine(pki, "front-proxy-ca.key"));
        _processes.Add(process);
        return process;
    }

    private void StartAgent(string node, string script)
    {
        var join = Cli("token", "create", "--node", node, "--role", node.StartsWith("master", StringComparison.Ordinal) ? "master" : "worker", "--print-join-command");
        Assert.True(join.ExitCode == 0, join.Combined);
        var command = join.StandardOutput.Trim().Split('\n')[^1].Split(' ');
        _processes.Add(ProgramProcess.Start("certfleet-agent", Path.Combine(_directory, $"agent-{node}.log"),
            [.. command[1..], "--node", node, "--root", NodeRoot(node), "--state-dir", Path.Combine(_directory, "agents", node),
            "--restart-command", $"bash {script} {{unit}} {node}", "--health-command", "true"]));
    }

    private string Status() => Cli("status", "-o", "json").StandardOutput;

    private string State(string id)
    {
        var show = Cli("rollout", "show", id, "-o", "json");
        if (show.ExitCode != 0)
        {
            return "";
        }
        using var json = JsonDocument.Parse(show.StandardOutput);
        return json.RootElement.GetProperty("state").GetString() ?? "";
    }

    private ProcessResult Cli(params string[] args) =>
        Programs.Run("certfleet", ["--config", AdminConfig, .. args], timeout: TimeSpan.FromSeconds(60));

    private string Logs() => string.Join("\n", Directory.GetFiles(_directory, "*.log").Select(f => $"--- {f}\n{File.ReadAllText(f)}"));

    private static bool Listening()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(Address, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}\n{Logs()}");
            await Task.Delay(250);
        }
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }
        ScratchDirectory.Delete(_directory);
    }
}
