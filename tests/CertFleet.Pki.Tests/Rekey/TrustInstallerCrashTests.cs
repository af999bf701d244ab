using CertFleet.Pki.Files;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// A trust install crashed at every fault point it reaches (<see cref="CrashAtEveryFaultPoint"/>): every file is whole,
/// its old text or its bundle, and rolling back from the backup leaves the node as it was.
/// </summary>
public sealed class TrustInstallerCrashTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private static readonly string[] Anchors = [TrustInstallerTests.CaFile, "etc/kubernetes/kube-proxy.kubeconfig"];

    [Fact]
    public void Trust_CrashAtEveryFaultPoint_EachFileOldOrNewAndRollbackRestoresTheNode()
    {
        using var newCa = NewAuthority.Create(OpensslScratch.LoadCertificate(Path.Combine(pki.NodeRoot("master-1"), TrustInstallerTests.CaFile)),
            new NewAuthorityRequest(TimeSpan.FromDays(3650)), TimeProvider.System);

        var reached = CrashAtEveryFaultPoint.Check(() => pki.CopyNode("worker-1"), root => TrustInstallerTests.Trust(root, newCa.Certificate), Anchors);

        Assert.Contains(TrustInstaller.AfterBackup, reached);
        Assert.Equal(Anchors.Length, reached.Count(p => p == TrustInstaller.AfterFile));
        Assert.Contains(FaultPoints.BackupAfterSave, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterTempWritten, reached);
        Assert.Contains(FaultPoints.AtomicWriteAfterRename, reached);
    }
}
