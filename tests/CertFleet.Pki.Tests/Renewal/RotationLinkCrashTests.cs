using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Tests.Files;
using CertFleet.Testing;
using CertFleet.Testing.Guides;

namespace CertFleet.Pki.Tests.Renewal;

/// <summary>
/// A link install crashed (in-process: the fault-point hook throws, nothing after it runs) at every fault point it
/// reaches, each occurrence in turn: the link always leads to a complete file whose certificate matches its key, and
/// rolling back from the backup, as the agent's recovery does, leaves the node as it was.
/// </summary>
public sealed class RotationLinkCrashTests(OptLayout layout) : IClassFixture<OptLayout>
{
    private const string Backups = "var/lib/certfleet";

    [Fact]
    public void Install_CrashAtEveryFaultPoint_LinkLeadsToAMatchingPairAndRollbackRestoresTheNode()
    {
        var reached = new List<string>();
        Install(layout.Copy("master"), reached.Add);
        Assert.Contains(FaultPoints.AtomicWriteAfterRename, reached);
        Assert.Contains("renew:after-file", reached);

        for (var crashAt = 0; crashAt < reached.Count; crashAt++)
        {
            var point = $"#{crashAt} {reached[crashAt]}";
            var root = layout.Copy("master");
            var oldTarget = RotationLinkInstallTests.ReadLink(root);
            var before = FolderSnapshot.Take(root, excludeUnder: Backups);
            var count = 0;
            var target = crashAt;

            Assert.Throws<SimulatedCrash>(() => Install(root, name =>
            {
                if (count++ == target)
                {
                    throw new SimulatedCrash(name);
                }
            }));

            AssertLinkLeadsToAMatchingPair(root, point);
            RollBack(root);
            Assert.True(oldTarget == RotationLinkInstallTests.ReadLink(root), point);
            Assert.True(before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)).Count == 0,
                $"{point}: {string.Join(", ", before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)))}");
            AssertLinkLeadsToAMatchingPair(root, point);
        }
    }

    private static void Install(string root, Action<string> onReached)
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var (current, renewed) = RotationLinkInstallTests.RenewKubeletClient(inventory);
        FaultPoints.OnReached = onReached;
        try
        {
            new CertificateInstaller(TimeProvider.System).Install(inventory,
                new Dictionary<string, CertificateInfo> { [current.Certificate.Sha256Fingerprint] = renewed });
        }
        finally
        {
            FaultPoints.OnReached = null;
        }
    }

    /// <summary>What the agent does after a crash while renaming: put the backup back, then drop the temporaries.</summary>
    private static void RollBack(string root)
    {
        var node = new NodeRoot(root);
        var sets = Path.Combine(root, BackupSet.BackupsDirectoryOnNode.TrimStart('/'));
        foreach (var set in Directory.Exists(sets) ? Directory.GetDirectories(sets) : [])
        {
            BackupSet.Open(node, node.ToNodePath(set)).RestoreAll();
        }
        AtomicFile.RemoveStaleTemporaries(Path.Combine(root, OptLayout.CertificateDirectory.TrimStart('/')));
    }

    private static void AssertLinkLeadsToAMatchingPair(string root, string point)
    {
        var pair = RotationLinkInstallTests.Current(root);
        Assert.True(File.Exists(pair), $"{point}: the link leads to {pair}, which is not there");
        Assert.True(Openssl.PublicKey(pair) == Openssl.Checked("pkey", "-in", pair, "-pubout"), $"{point}: {pair}: certificate and key differ");
    }
}
