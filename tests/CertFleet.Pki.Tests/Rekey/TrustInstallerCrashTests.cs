using CertFleet.Pki.Files;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Pki.Tests.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// A trust install crashed (in-process: the fault-point hook throws, nothing after it runs) at every fault point it
/// reaches, each occurrence in turn: every file is whole, its old text or its bundle, and rolling back from the
/// backup, as the agent's recovery does, leaves the node as it was.
/// </summary>
public sealed class TrustInstallerCrashTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private static readonly string[] Anchors = [TrustInstallerTests.CaFile, "etc/kubernetes/kube-proxy.kubeconfig"];

    [Fact]
    public void Trust_CrashAtEveryFaultPoint_EachFileOldOrNewAndRollbackRestoresTheNode()
    {
        using var newCa = NewAuthority.Create(OpensslScratch.LoadCertificate(Path.Combine(pki.NodeRoot("master-1"), TrustInstallerTests.CaFile)),
            new NewAuthorityRequest(TimeSpan.FromDays(3650)), TimeProvider.System);
        var reached = new List<string>();
        var clean = pki.CopyNode("worker-1");
        var oldTexts = Texts(clean);
        WithHook(reached.Add, () => TrustInstallerTests.Trust(clean, newCa.Certificate));
        var newTexts = Texts(clean);
        Assert.Contains(TrustInstaller.AfterBackup, reached);
        Assert.Equal(Anchors.Length, reached.Count(p => p == TrustInstaller.AfterFile));
        Assert.Contains(FaultPoints.BackupAfterSave, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterTempWritten, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterRename, reached);

        for (var crashAt = 0; crashAt < reached.Count; crashAt++)
        {
            var point = $"#{crashAt} {reached[crashAt]}";
            var root = pki.CopyNode("worker-1");
            var before = FolderSnapshot.Take(root, excludeUnder: TrustInstallerTests.Backups);
            var count = 0;
            var target = crashAt;

            Assert.Throws<SimulatedCrash>(() => WithHook(name =>
            {
                if (count++ == target)
                {
                    throw new SimulatedCrash(name);
                }
            }, () => TrustInstallerTests.Trust(root, newCa.Certificate)));

            var now = Texts(root);
            foreach (var anchor in Anchors)
            {
                Assert.True(now[anchor] == oldTexts[anchor] || now[anchor] == newTexts[anchor], $"{point}: {anchor} is neither its old text nor its bundle");
            }
            RollBack(root);
            var differences = before.Differences(FolderSnapshot.Take(root, excludeUnder: TrustInstallerTests.Backups));
            Assert.True(differences.Count == 0, $"{point}: {string.Join(", ", differences)}");
        }
    }

    private static void WithHook(Action<string> onReached, Action install)
    {
        FaultPoints.OnReached = onReached;
        try
        {
            install();
        }
        finally
        {
            FaultPoints.OnReached = null;
        }
    }

    private static Dictionary<string, string> Texts(string root) =>
        Anchors.ToDictionary(a => a, a => File.ReadAllText(Path.Combine(root, a)));

    /// <summary>What the agent does after a crash: put every backup back, then drop the temporaries.</summary>
    private static void RollBack(string root)
    {
        var node = new NodeRoot(root);
        var sets = Path.Combine(root, BackupSet.BackupsDirectoryOnNode.TrimStart('/'));
        foreach (var set in Directory.Exists(sets) ? Directory.GetDirectories(sets) : [])
        {
            BackupSet.Open(node, node.ToNodePath(set)).RestoreAll();
        }
        foreach (var folder in Anchors.Select(a => Path.GetDirectoryName(Path.Combine(root, a))!).Distinct())
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
    }
}
