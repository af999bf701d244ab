using System.Net.Sockets;

namespace CertFleet.Testing;

/// <summary>
/// A real 3-member etcd cluster on loopback (127.0.10.11-13, ports 2379/2380 as make-cluster-pki.sh --loopback sets
/// them), each member run by etcd-member.sh from its node folder. Started once per test collection; every member is
/// stopped on dispose, and on a failed start. Only one may run per machine at a time: the addresses are fixed.
/// </summary>
public sealed class EtcdLoopbackCluster : IDisposable
{
    public const int Members = 3;

    private readonly LoopbackPki _pki = new();
    private readonly List<string> _started = [];

    public EtcdLoopbackCluster()
    {
        try
        {
            WaitUntilAddressesFree(TimeSpan.FromMinutes(3));
            foreach (var node in MasterNames)
            {
                _started.Add(node);
                Run("start", node, TimeSpan.FromSeconds(30));
            }
            foreach (var node in MasterNames)
            {
                WaitHealthy(node, TimeSpan.FromSeconds(30));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static IReadOnlyList<string> MasterNames { get; } = Enumerable.Range(1, Members).Select(i => $"master-{i}").ToList();

    public string NodeRoot(string node) => _pki.NodeRoot(node);

    /// <summary>The command an agent's --restart-command uses to restart this node's member.</summary>
    public string RestartCommand(string node) => $"bash {SharedFixtures.EtcdMember} restart {NodeRoot(node)}";

    public bool IsHealthy(string node) =>
        ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "health", NodeRoot(node)], timeout: TimeSpan.FromSeconds(20)).ExitCode == 0;

    public void WaitHealthy(string node, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!IsHealthy(node))
        {
            if (DateTime.UtcNow > deadline)
            {
                var log = Path.Combine(NodeRoot(node), "var/log/etcd.log");
                var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(10)) : "(no log)";
                throw new InvalidOperationException($"etcd member {node} not healthy within {limit.TotalSeconds} s:\n{tail}");
            }
            Thread.Sleep(500);
        }
    }

    public void Dispose()
    {
        foreach (var node in _started)
        {
            try
            {
                Run("stop", node, TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                // keep stopping the others; a member left running shows up in the next start's port check
            }
        }
        _started.Clear();
        _pki.Dispose();
    }

    private void Run(string command, string node, TimeSpan limit)
    {
        var result = ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, command, NodeRoot(node)], timeout: limit);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"etcd-member.sh {command} {node} exited {result.ExitCode}: {result.Combined}");
        }
    }

    /// <summary>Other test projects on this machine use the same fixture addresses: wait for their cluster to stop.</summary>
    private static void WaitUntilAddressesFree(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var addresses = Enumerable.Range(1, Members).Select(i => $"127.0.10.{10 + i}").ToList();
        while (addresses.FirstOrDefault(a => IsListening(a, 2379) || IsListening(a, 2380)) is { } busy)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"{busy}:2379 is still in use after {limit.TotalMinutes} minutes: another etcd cluster runs on the loopback fixture addresses; stop it first");
            }
            Thread.Sleep(1000);
        }
    }

    private static bool IsListening(string address, int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(address, port).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    private sealed class LoopbackPki() : ClusterPkiFixture("ec", "--loopback", "--workers", "0");
}
