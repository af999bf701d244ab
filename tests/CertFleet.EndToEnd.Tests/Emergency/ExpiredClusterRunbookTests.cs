using System.Text;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Emergency;

/// <summary>
/// README.md's "The cluster is down: certificates already expired", run as written on a cluster whose every leaf
/// certificate has expired (<see cref="FolderCluster"/> says how machines are folders here). Without agents: the
/// masters renewed in place, etcd's quorum back, the workers renewed from copies on a master with its CA key. With
/// agents: a loopback fleet of its own renewed by `renew --all --wait`. openssl is the oracle for keys, chains and
/// dates; etcdctl for quorum.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class ExpiredClusterRunbookTests(ExpiredClusterFixture pki) : IClassFixture<ExpiredClusterFixture>
{
    private const string Section = "## The cluster is down: certificates already expired";
    private static readonly string[] Masters = ["master-1", "master-2", "master-3"];
    private static readonly string[] Workers = ["worker-1", "worker-2"];
    private static readonly string[] ControlPlane = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"];

    [Fact]
    public void Readme_MastersRenewedInPlace_EtcdQuorumReturnsAndEtcdctlEndpointHealthPasses()
    {
        var renewMaster = ReadmeBlock("certfleet check-expiration");
        var restart = ReadmeBlock("endpoint health");
        var before = Masters.ToDictionary(m => m, m => Openssl.PublicKey(Pki(m, "etcd-peer.crt")));
        try
        {
            foreach (var master in Masters)
            {
                var start = ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "start", pki.NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
                Assert.True(start.ExitCode == 0, start.Combined);
            }
            // down: the members refuse each other's expired peer certificates, so no quorum
            WaitUntil(() => File.ReadAllText(EtcdLog("master-1")).Contains("certificate has expired", StringComparison.Ordinal), "etcd to refuse an expired peer");
            Assert.All(Masters, m => Assert.NotEqual(0, pki.Health(m).ExitCode));

            foreach (var master in Masters[..2])
            {
                var renewed = pki.Cluster.Run(master, renewMaster);
                Assert.True(renewed.ExitCode == 0, renewed.Combined);
                Assert.Contains("Renewed ", renewed.StandardOutput, StringComparison.Ordinal);
                Assert.Contains("changed /etc/kubernetes/pki/etcd-peer.crt", renewed.StandardOutput, StringComparison.Ordinal);
            }
            // two members with new peer certificates on disk accept each other, before any restart
            WaitUntil(() => pki.Health("master-1").ExitCode == 0, "quorum with two renewed members");
            Assert.Empty(pki.Cluster.Restarts("master-1"));

            var third = pki.Cluster.Run("master-3", renewMaster);
            Assert.True(third.ExitCode == 0, third.Combined);
            var restarted = pki.Cluster.Run("master-1", restart);

            Assert.True(restarted.ExitCode == 0, restarted.Combined);
            Assert.All(Masters, m => Assert.Contains($"{ExpiredClusterFixture.EtcdEndpoint(m)} is healthy", restarted.Combined, StringComparison.Ordinal));
            Assert.All(Masters, m => Assert.Equal(["etcd", .. ControlPlane], pki.Cluster.Restarts(m)));
            Assert.All(Masters, m => Assert.Equal(0, pki.Health(m).ExitCode));
            foreach (var master in Masters)
            {
                foreach (var leaf in new[] { "etcd-peer.crt", "etcd-server.crt", "apiserver-etcd-client.crt", "apiserver.crt", $"{master}.crt" })
                {
                    AssertRenewed(Pki(master, leaf), Pki(master, "ca.crt"));
                }
                Assert.Equal(before[master], Openssl.PublicKey(Pki(master, "etcd-peer.crt")));
            }
        }
        finally
        {
            foreach (var master in Masters)
            {
                ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "stop", pki.NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            }
        }
    }

    [Fact]
    public void Readme_WorkersCopiedToAMasterRenewedWithItsCaKey_KubeletAndKubeProxyKeepTheirKeysAndVerify()
    {
        var copies = ScratchDirectory.Create("srv-certfleet");
        try
        {
            // the README's folder for the copies, /srv/certfleet on the master, is a scratch folder here
            var renewWorkers = ReadmeBlock("rsync -aR").Select(l => l.Replace("/srv/certfleet", copies, StringComparison.Ordinal)).ToList();
            var before = Workers.ToDictionary(w => w, w => (Kubelet: Openssl.PublicKey(Pki(w, $"{w}.crt")), Proxy: Openssl.PublicKey(Pki(w, "kube-proxy.crt"))));
            var master = FolderSnapshot.Take(pki.NodeRoot("master-1"));

            var run = pki.Cluster.Run("master-1", renewWorkers);

            Assert.True(run.ExitCode == 0, run.Combined);
            var ca = Pki("master-1", "ca.crt");
            foreach (var worker in Workers)
            {
                var embedded = EmbeddedClientCertificate(Path.Combine(pki.NodeRoot(worker), "etc/kubernetes/kube-proxy.kubeconfig"), copies);
                AssertRenewed(Pki(worker, $"{worker}.crt"), ca);
                AssertRenewed(Pki(worker, "kube-proxy.crt"), ca);
                AssertRenewed(embedded, ca);
                Assert.Equal(before[worker].Kubelet, Openssl.PublicKey(Pki(worker, $"{worker}.crt")));
                Assert.Equal(before[worker].Proxy, Openssl.PublicKey(Pki(worker, "kube-proxy.crt")));
                Assert.Equal(before[worker].Proxy, Openssl.PublicKey(embedded));
                Assert.Equal(["kubelet", "kube-proxy"], pki.Cluster.Restarts(worker));
                // the worker gets certificates only: its keys are the bytes they were, and the backups stay on the master
                Assert.False(System.IO.Directory.Exists(Path.Combine(pki.NodeRoot(worker), "var/lib/certfleet")));
                Assert.NotEmpty(System.IO.Directory.GetDirectories(Path.Combine(copies, worker, "var/lib/certfleet/backups")));
            }
            Assert.Contains("Verified ", run.StandardOutput, StringComparison.Ordinal);
            // the master lent its CA key and nothing else: none of its files changed
            Assert.Empty(master.Differences(FolderSnapshot.Take(pki.NodeRoot("master-1"))));
        }
        finally
        {
            ScratchDirectory.Delete(copies);
        }
    }

    [Fact]
    public async Task Readme_FleetWayOnAnExpiredFleet_RenewsEveryNodeAndEtcdIsHealthyAgain()
    {
        await using var fleet = await LoopbackFleet.StartAsync(fixtureArguments: ["--all-expired", "--ca-days-left", "3650"]);
        var cluster = new FolderCluster(fleet.Directory);
        Assert.All(Masters, m => Assert.NotEqual(0, EtcdHealth(fleet.NodeRoot(m))));

        var run = cluster.Run("master-1", ReadmeBlock("certfleet renew --all --wait"), fleet.AdminConfig);

        Assert.True(run.ExitCode == 0, run.Combined + fleet.Logs());
        Assert.Contains("completed", run.StandardOutput, StringComparison.Ordinal);
        Assert.All(Masters, m => Assert.Equal(0, EtcdHealth(fleet.NodeRoot(m))));
        foreach (var node in Masters.Concat(Workers))
        {
            var pkiFolder = Path.Combine(fleet.NodeRoot(node), "etc/kubernetes/pki");
            foreach (var leaf in Masters.Contains(node) ? ["etcd-peer.crt", "etcd-server.crt", "apiserver-etcd-client.crt", $"{node}.crt"] : new[] { $"{node}.crt", "kube-proxy.crt" })
            {
                AssertRenewed(Path.Combine(pkiFolder, leaf), Path.Combine(pkiFolder, "ca.crt"));
                Assert.Equal(Openssl.PublicKey(Path.Combine(fleet.Original(node), "etc/kubernetes/pki", leaf)), Openssl.PublicKey(Path.Combine(pkiFolder, leaf)));
            }
        }
    }

    /// <summary>etcd-member.sh's health check: etcdctl with the member's own apiserver-etcd-client certificate.</summary>
    private static int EtcdHealth(string root) =>
        ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "health", root], timeout: TimeSpan.FromSeconds(20)).ExitCode;

    private string Pki(string node, string file) => Path.Combine(pki.NodeRoot(node), "etc/kubernetes/pki", file);

    private string EtcdLog(string master) => Path.Combine(pki.NodeRoot(master), "var/log/etcd.log");

    /// <summary>The one shell block of the section that has a line containing <paramref name="text"/>.</summary>
    private static IReadOnlyList<string> ReadmeBlock(string text)
    {
        var readme = ReadmeText.Open("README.md");
        var blocks = ReadmeText.ShellBlocks(readme.Section(Section)).Where(b => b.Any(l => l.Contains(text, StringComparison.Ordinal))).ToList();
        Assert.True(blocks.Count == 1, $"{readme.Path}, '{Section}': {blocks.Count} shell blocks have a line with '{text}', the test runs one");
        return blocks[0];
    }

    /// <summary>Renewed: valid for 300 days more at least (365 by default), chains to the CA (openssl verify, with the time checked).</summary>
    private static void AssertRenewed(string certificate, string ca)
    {
        Assert.Contains("will not expire", Openssl.Checked("x509", "-in", certificate, "-noout", "-checkend", "25920000"), StringComparison.Ordinal);
        var verify = Openssl.Verify(ca, certificate);
        Assert.True(verify.ExitCode == 0, $"{certificate}: {verify.Combined}");
    }

    /// <summary>A kubeconfig's client-certificate-data written to a PEM file in <paramref name="folder"/>.</summary>
    private static string EmbeddedClientCertificate(string kubeconfig, string folder)
    {
        const string field = "client-certificate-data:";
        var line = File.ReadLines(kubeconfig).Single(l => l.TrimStart().StartsWith(field, StringComparison.Ordinal));
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(path, Encoding.ASCII.GetString(Convert.FromBase64String(line.TrimStart()[field.Length..].Trim())));
        return path;
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 45 s for {what}");
            Thread.Sleep(1000);
        }
    }
}
