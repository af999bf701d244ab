using CertFleet.Pki.Files;
using CertFleet.Pki.Rekey;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// The retire stage on a master, which writes a CA file and the new key beside it in one install, crashed at every
/// fault point it reaches (<see cref="CrashAtEveryFaultPoint"/>): each file old or new, and the rollback the agent's
/// recovery does leaves the node as it was, so the CA certificate and its key are a matching pair again.
/// </summary>
public sealed class RekeyInstallerCrashTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private static readonly string[] Written = ["etc/kubernetes/pki/ca.crt", "etc/kubernetes/pki/ca.key", "etc/kubernetes/admin.conf"];

    [Fact]
    public void Retire_CrashAtEveryFaultPoint_EachFileOldOrNewAndRollbackRestoresTheMatchingPair()
    {
        var template = pki.CopyNode("master-1");
        var (authorities, keys) = RekeyInstallerTests.NewAuthorities(template);
        using var _ = keys;
        var installer = new RekeyInstaller(TimeProvider.System);
        installer.Split(TrustInstallerTests.Scan(template), authorities);
        installer.Apply(TrustInstallerTests.Scan(template), RekeyStage.Trust, authorities);
        installer.Apply(TrustInstallerTests.Scan(template), RekeyStage.SwitchSigning, authorities);
        // the earlier stages' backups go: the crash's rollback must put back the retire alone
        Directory.Delete(Path.Combine(template, TrustInstallerTests.Backups), recursive: true);
        var copies = ScratchDirectory.Create("rekey-crash");
        var copy = 0;
        string Fresh()
        {
            var node = Path.Combine(copies, $"node-{copy++}");
            ProcessRunner.RunChecked("cp", "-a", template, node);
            return node;
        }

        var reached = CrashAtEveryFaultPoint.Check(Fresh, root => installer.Apply(TrustInstallerTests.Scan(root), RekeyStage.Retire, authorities), Written);

        Assert.Contains(RekeyInstaller.AfterBackup, reached);
        Assert.Contains(RekeyInstaller.AfterFile, reached);
        ScratchDirectory.Delete(copies);
    }
}
