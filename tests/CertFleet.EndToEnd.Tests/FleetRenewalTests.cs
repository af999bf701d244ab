using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CertFleet.EndToEnd.Tests.Rekey;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// A new user's whole story through the CLI alone: a 3-master (real etcd) + 2-worker loopback fleet renewed with
/// `certfleet renew --all --wait`, while a client keeps writing to etcd through all three endpoints. worker-1 is laid
/// out as kubernetes-the-hard-way lays out its nodes: kube-proxy's kubeconfig and the kubelet's serving certificate
/// are named only in component configs (KubeProxyConfiguration, KubeletConfiguration). The CA re-key's refusals
/// (a weaker key; a re-key while this rollout runs) are checked on the same fleet.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class FleetRenewalTests
{
    private static readonly string[] RunbookOrder = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

    [Fact]
    public async Task RenewAll_LoopbackFleetWithRealEtcd_RenewsEveryLeafInRunbookOrderWithoutAFailedWrite()
    {
        await using var fleet = await LoopbackFleet.StartAsync(ComponentConfigs.LayOut);
        try
        {
            var plan = fleet.Cli("plan", "--all");
            Assert.True(plan.ExitCode == 0, plan.Combined);
            Assert.Contains("etcd.service", plan.StandardOutput, StringComparison.Ordinal);
            RekeyRefusals.AssertWeakerKeyRefused(fleet);

            using var writes = new CancellationTokenSource();
            var writer = Task.Run(() => WriteContinuously(fleet, writes.Token));
            var renewing = Task.Run(() => fleet.Cli("renew", "--all", "--wait"));
            var id = await RekeyRefusals.AssertRefusedWhileARolloutRunsAsync(fleet);
            var renew = await renewing;
            await writes.CancelAsync();
            var (written, failures) = await writer;

            Assert.True(renew.ExitCode == 0, renew.Combined + fleet.Logs());
            // the rollout the re-key was refused for ran on to completion, and no CA was replaced
            Assert.Contains($"Rollout {id} completed", renew.StandardOutput, StringComparison.Ordinal);
            RekeyRefusals.AssertCaUnchanged(fleet);
            Assert.True(written > 5, $"only {written} writes were made during the rollout");
            Assert.True(failures.Count == 0, $"{failures.Count} of {written} writes failed: {string.Join("\n", failures.Take(3))}");

            AssertEveryLeafRenewedWithItsKey(fleet);
            ComponentConfigs.AssertServingCertificateRenewed(fleet);
            ComponentConfigs.AssertBootstrappedKubeletRenewed(fleet);
            await AssertEtcdServesTheNewCertificates(fleet);
            AssertRestartOrder(fleet);
        }
        catch (Exception) when (DumpLogs(fleet))
        {
            throw;
        }
    }

    private static bool DumpLogs(LoopbackFleet fleet)
    {
        Console.Error.WriteLine(fleet.Logs());
        return false;
    }

    /// <summary>
    /// Writes through all three endpoints until stopped, as the apiserver would: a write that meets a member in the
    /// middle of its restart is retried (up to 3 attempts within a few seconds), and fails only if it never lands,
    /// which is what losing quorum or a member coming back unable to talk TLS would look like.
    /// </summary>
    private static (int Written, List<string> Failures) WriteContinuously(LoopbackFleet fleet, CancellationToken stop)
    {
        var pki = Path.Combine(fleet.NodeRoot("master-1"), "etc/kubernetes/pki");
        var failures = new List<string>();
        var written = 0;
        var clock = Stopwatch.StartNew();
        // bounded in count and time, whatever happens to the rollout
        while (!stop.IsCancellationRequested && written < 2000 && clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            ProcessResult? result = null;
            for (var attempt = 0; attempt < 3 && result is not { ExitCode: 0 }; attempt++)
            {
                if (attempt > 0)
                {
                    Thread.Sleep(1000);
                }
                result = ProcessRunner.Run("etcdctl", ["--endpoints=https://127.0.10.11:2379,https://127.0.10.12:2379,https://127.0.10.13:2379",
                    "--cacert", Path.Combine(pki, "ca.crt"), "--cert", Path.Combine(pki, "apiserver-etcd-client.crt"),
                    "--key", Path.Combine(pki, "apiserver-etcd-client.key"), "--command-timeout=5s",
                    "put", $"/certfleet/e2e/{written}", clock.Elapsed.ToString()],
                    environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" }, timeout: TimeSpan.FromSeconds(30));
            }
            written++;
            if (result!.ExitCode != 0)
            {
                failures.Add(result.Combined);
            }
            // four writes a second are as telling as back-to-back etcdctl processes, at a fraction of the CPU
            stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(250));
        }
        return (written, failures);
    }

    private static void AssertEveryLeafRenewedWithItsKey(LoopbackFleet fleet)
    {
        foreach (var node in LoopbackFleet.Masters.Concat(LoopbackFleet.Workers))
        {
            var after = CheckExpiration(fleet, fleet.NodeRoot(node));
            var before = CheckExpiration(fleet, fleet.Original(node));
            foreach (var old in before.Where(c => !c.GetProperty("isCa").GetBoolean()))
            {
                var path = old.GetProperty("path").GetString()!;
                var user = old.GetProperty("kubeconfigUser").GetString();
                if (ComponentConfigs.IsBootstrappedKubeletFile(node, path))
                {
                    continue; // renewed as the kubelet renews them, not in place: AssertBootstrappedKubeletRenewed
                }
                var now = after.Single(c => c.GetProperty("path").GetString() == path && c.GetProperty("kubeconfigUser").GetString() == user);
                Assert.True(now.GetProperty("residualSeconds").GetInt64() > 300L * 86400, $"{node}:{path} was not renewed");
                Assert.NotEqual(old.GetProperty("serial").GetString(), now.GetProperty("serial").GetString());
                Assert.Equal(old.GetProperty("subject").GetString(), now.GetProperty("subject").GetString());
                Assert.True(now.GetProperty("keyMatches").GetBoolean(), $"{node}:{path} does not match its key");
                if (user is null)
                {
                    var file = Path.Combine(fleet.NodeRoot(node), path.TrimStart('/'));
                    Assert.Equal(Openssl.PublicKey(Path.Combine(fleet.Original(node), path.TrimStart('/'))), Openssl.PublicKey(file));
                    var ca = path.Contains("front-proxy", StringComparison.Ordinal) ? "front-proxy-ca.crt" : "ca.crt";
                    var verify = Openssl.Verify(Path.Combine(fleet.NodeRoot(node), "etc/kubernetes/pki", ca), file);
                    Assert.True(verify.ExitCode == 0, $"{node}:{path}: {verify.Combined}");
                }
            }
        }
    }

    private static List<JsonElement> CheckExpiration(LoopbackFleet fleet, string root)
    {
        var result = fleet.Cli("check-expiration", "--root", root, "-o", "json");
        Assert.True(result.ExitCode == 0, result.Combined);
        return [.. JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static async Task AssertEtcdServesTheNewCertificates(LoopbackFleet fleet)
    {
        for (var i = 1; i <= 3; i++)
        {
            var pki = Path.Combine(fleet.NodeRoot($"master-{i}"), "etc/kubernetes/pki");
            Assert.Equal(Openssl.Serial(Path.Combine(pki, "etcd-server.crt")), await ServedSerial($"127.0.10.1{i}", 2379, pki));
            Assert.Equal(Openssl.Serial(Path.Combine(pki, "etcd-peer.crt")), await ServedSerial($"127.0.10.1{i}", 2380, pki));
        }
    }

    private static async Task<string> ServedSerial(string host, int port, string pki)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        using var client = X509Certificate2.CreateFromPemFile(Path.Combine(pki, "apiserver-etcd-client.crt"), Path.Combine(pki, "apiserver-etcd-client.key"));
        await using var tls = new SslStream(tcp.GetStream(), false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = host,
            ClientCertificates = [client],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        using var served = new X509Certificate2(tls.RemoteCertificate!);
        return served.SerialNumber;
    }

    private static void AssertRestartOrder(LoopbackFleet fleet)
    {
        var restarts = File.ReadAllLines(fleet.RestartLog)
            .Select(l => l.Split(' '))
            .Select(f => (Time: double.Parse(f[0], CultureInfo.InvariantCulture), Node: f[1], Unit: f[2], Edge: f[3]))
            .ToList();
        var starts = restarts.Where(r => r.Edge == "start").ToList();
        // each runbook unit restarted on every master, one master at a time, the whole group before the next unit
        for (var u = 0; u < RunbookOrder.Length; u++)
        {
            var group = starts.Where(r => r.Unit == RunbookOrder[u]).ToList();
            Assert.Equal(LoopbackFleet.Masters.Order(), group.Select(r => r.Node).Order());
            var groupEnds = restarts.Where(r => r.Unit == RunbookOrder[u] && r.Edge == "end").Max(r => r.Time);
            foreach (var later in RunbookOrder.Skip(u + 1))
            {
                Assert.All(starts.Where(r => r.Unit == later), r => Assert.True(r.Time > groupEnds, $"{later} on {r.Node} restarted before {RunbookOrder[u]} finished"));
            }
        }
        var etcd = restarts.Where(r => r.Unit == "etcd").OrderBy(r => r.Time).ToList();
        for (var i = 0; i + 1 < etcd.Count; i += 2)
        {
            Assert.Equal("start", etcd[i].Edge);
            Assert.Equal("end", etcd[i + 1].Edge); // never two etcd members down at once
            Assert.Equal(etcd[i].Node, etcd[i + 1].Node);
        }
        // worker-1's kube-proxy reads its kubeconfig through --config only, and still restarts
        var kubeletsOnWorkers = starts.Where(r => r.Unit is "kubelet" or "kube-proxy" && r.Node.StartsWith("worker", StringComparison.Ordinal)).ToList();
        Assert.Equal(["worker-1 kube-proxy", "worker-1 kubelet", "worker-2 kube-proxy", "worker-2 kubelet"],
            kubeletsOnWorkers.Select(r => $"{r.Node} {r.Unit}").Order(StringComparer.Ordinal));
        Assert.All(kubeletsOnWorkers, r => Assert.True(r.Time > starts.Where(s => s.Unit == "kube-scheduler").Max(s => s.Time)));
    }
}
