using CertFleet.Pki.Files;
using CertFleet.Pki.Rekey;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// A split crashed at every fault point it reaches (<see cref="CrashAtEveryFaultPoint"/>): each copy is absent or
/// complete, the unit is its old text or its new one and names copies only once they are in place, and rolling back
/// from the backup leaves the node as it was, the copies removed.
/// </summary>
public sealed class SigningSplitInstallerCrashTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string CertCopy = "etc/kubernetes/pki/ca-signing.crt";
    private const string KeyCopy = "etc/kubernetes/pki/ca-signing.key";
    private static readonly string[] Written = [CertCopy, KeyCopy, SigningSplitInstallerTests.Unit];

    [Fact]
    public void Apply_CrashAtEveryFaultPoint_EachFileAbsentOldOrNewAndRollbackRestoresTheNode()
    {
        var unitAfter = File.ReadAllText(Path.Combine(SplitOnce(), SigningSplitInstallerTests.Unit));

        var reached = CrashAtEveryFaultPoint.Check(() => pki.CopyNode("master-1"), root => SigningSplitInstallerTests.Apply(root), Written,
            (point, now) =>
            {
                if (now[SigningSplitInstallerTests.Unit] == unitAfter)
                {
                    Assert.True(now[CertCopy] is not null && now[KeyCopy] is not null, $"{point}: the unit names a copy that is not there");
                }
            });

        Assert.Contains(SigningSplitInstaller.AfterBackup, reached);
        Assert.Equal(Written.Length, reached.Count(p => p == SigningSplitInstaller.AfterFile));
        Assert.Contains(FaultPoints.BackupAfterSave, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterTempWritten, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterRename, reached);
    }

    private string SplitOnce()
    {
        var node = pki.CopyNode("master-1");
        SigningSplitInstallerTests.Apply(node);
        return node;
    }
}
