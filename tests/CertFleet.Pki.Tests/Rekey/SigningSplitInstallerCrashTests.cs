using CertFleet.Pki.Files;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// A split crashed (in-process: the fault-point hook throws, nothing after it runs) at every fault point it reaches,
/// each occurrence in turn: each copy is absent or complete, the unit is its old text or its new one and names copies
/// only once they are in place, and rolling back from the backup leaves the node as it was, the copies removed.
/// </summary>
public sealed class SigningSplitInstallerCrashTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string CertCopy = "etc/kubernetes/pki/ca-signing.crt";
    private const string KeyCopy = "etc/kubernetes/pki/ca-signing.key";
    private static readonly string[] Written = [CertCopy, KeyCopy, SigningSplitInstallerTests.Unit];

    [Fact]
    public void Apply_CrashAtEveryFaultPoint_EachFileAbsentOldOrNewAndRollbackRestoresTheNode()
    {
        var reached = new List<string>();
        var clean = pki.CopyNode("master-1");
        var oldTexts = Texts(clean);
        WithHook(reached.Add, () => SigningSplitInstallerTests.Apply(clean));
        var newTexts = Texts(clean);
        Assert.Contains(SigningSplitInstaller.AfterBackup, reached);
        Assert.Equal(Written.Length, reached.Count(p => p == SigningSplitInstaller.AfterFile));
        Assert.Contains(FaultPoints.BackupAfterSave, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterTempWritten, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterRename, reached);

        for (var crashAt = 0; crashAt < reached.Count; crashAt++)
        {
            var point = $"#{crashAt} {reached[crashAt]}";
            var root = pki.CopyNode("master-1");
            var before = FolderSnapshot.Take(root, excludeUnder: TrustInstallerTests.Backups);
            var count = 0;
            var target = crashAt;

            Assert.Throws<SimulatedCrash>(() => WithHook(name =>
            {
                if (count++ == target)
                {
                    throw new SimulatedCrash(name);
                }
            }, () => SigningSplitInstallerTests.Apply(root)));

            var now = Texts(root);
            foreach (var file in Written)
            {
                Assert.True(now[file] == oldTexts[file] || now[file] == newTexts[file], $"{point}: {file} is neither as before nor as after");
            }
            if (now[SigningSplitInstallerTests.Unit] == newTexts[SigningSplitInstallerTests.Unit])
            {
                Assert.True(now[CertCopy] is not null && now[KeyCopy] is not null, $"{point}: the unit names a copy that is not there");
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

    private static Dictionary<string, string?> Texts(string root) =>
        Written.ToDictionary(f => f, f => File.Exists(Path.Combine(root, f)) ? File.ReadAllText(Path.Combine(root, f)) : null);

    /// <summary>What the agent does after a crash: put every backup back (new files removed), then drop the temporaries.</summary>
    private static void RollBack(string root)
    {
        var node = new NodeRoot(root);
        var sets = Path.Combine(root, BackupSet.BackupsDirectoryOnNode.TrimStart('/'));
        foreach (var set in Directory.Exists(sets) ? Directory.GetDirectories(sets) : [])
        {
            BackupSet.Open(node, node.ToNodePath(set)).RestoreAll();
        }
        foreach (var folder in Written.Select(f => Path.GetDirectoryName(Path.Combine(root, f))!).Distinct())
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
    }
}
