using System.Text.RegularExpressions;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// A re-key's three stages on the fixture master, for both of its CAs at once (the cluster CA and the front-proxy CA),
/// as the agent runs them: split and trust, switch the signing pair, retire; openssl as the oracle.
/// </summary>
public sealed partial class RekeyInstallerTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string Pki = "etc/kubernetes/pki";

    [Fact]
    public void Preview_FixtureMaster_NamesTheSplitTheTrustFilesAndTheSigningPairAfterTheSplit()
    {
        var master = pki.CopyNode("master-1");
        var (authorities, disposables) = NewAuthorities(master);
        using var _ = disposables;

        var preview = RekeyInstaller.Preview(TrustInstallerTests.Scan(master), RekeyStage.Trust, authorities);

        Assert.Empty(preview.Problems);
        Assert.True(preview.HoldsOldKey);
        Assert.Contains("/etc/kubernetes/pki/ca-signing.crt", preview.Files);
        Assert.Contains("/" + SigningSplitInstallerTests.Unit, preview.Files);
        Assert.Contains("/etc/kubernetes/pki/ca.crt", preview.TrustFiles);
        Assert.Contains("/etc/kubernetes/pki/front-proxy-ca.crt", preview.TrustFiles);
        Assert.Contains("/etc/kubernetes/admin.conf", preview.TrustFiles);
        Assert.Equal(["/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key"], preview.SigningFiles);
        Assert.Contains("etcd.service", preview.Units);
        Assert.Contains("kube-controller-manager.service", preview.Units);
        Assert.False(File.Exists(Path.Combine(master, Pki, "ca-signing.crt")), "a preview writes nothing");
    }

    [Fact]
    public void TrustSwitchRetire_FixtureMaster_EachStageAsTheRunbookSaysAndIdempotent()
    {
        var master = pki.CopyNode("master-1");
        var (authorities, disposables) = NewAuthorities(master);
        using var _ = disposables;
        var installer = new RekeyInstaller(TimeProvider.System);
        var ca = Path.Combine(master, Pki, "ca.crt");
        var oldCa = Path.Combine(master, "old-ca.crt");
        File.Copy(ca, oldCa);

        Assert.True(installer.Split(TrustInstallerTests.Scan(master), authorities).DaemonReload);
        var trust = installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.Trust, authorities);
        Assert.Equal(2, Certificates(ca));
        Assert.Equal(2, Certificates(Path.Combine(master, Pki, "front-proxy-ca.crt")));
        Assert.Equal(1, Certificates(Path.Combine(master, Pki, "ca-signing.crt")));
        Assert.Contains("kube-apiserver.service", trust.UnitsToRestart);
        Assert.Null(installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.Trust, authorities).BackupDirectory);

        var switched = installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.SwitchSigning, authorities);
        Assert.Equal(["/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key"], switched.ChangedFiles);
        Assert.Equal(["kube-controller-manager.service"], switched.UnitsToRestart);
        Assert.Equal(Openssl.PublicKey(Path.Combine(master, "new-ca.crt")), Openssl.PublicKey(Path.Combine(master, Pki, "ca-signing.crt")));
        Assert.Equal(Openssl.PublicKey(Path.Combine(master, Pki, "ca-signing.crt")),
            Openssl.Checked("pkey", "-in", Path.Combine(master, Pki, "ca-signing.key"), "-pubout"));
        Assert.Equal(2, Certificates(ca));
        Assert.Null(installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.SwitchSigning, authorities).BackupDirectory);

        installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.Retire, authorities);
        Assert.Equal(1, Certificates(ca));
        Assert.Equal(Openssl.PublicKey(Path.Combine(master, "new-ca.crt")), Openssl.PublicKey(ca));
        Assert.Equal(Openssl.PublicKey(ca), Openssl.Checked("pkey", "-in", Path.Combine(master, Pki, "ca.key"), "-pubout"));
        Assert.NotEqual(0, Openssl.Verify(ca, Path.Combine(master, Pki, "apiserver.crt")).ExitCode);
        Assert.Equal(0, Openssl.Verify(oldCa, Path.Combine(master, Pki, "apiserver.crt")).ExitCode);
        Assert.DoesNotContain(Base64Body(oldCa), TrustInstallerTests.CertificateAuthorityData(Path.Combine(master, "etc/kubernetes/admin.conf"))
            .Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Null(installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.Retire, authorities).BackupDirectory);
    }

    [Fact]
    public void Retire_MasterWithoutTheNewKey_RefusedAndNothingWritten()
    {
        var master = pki.CopyNode("master-1");
        var (authorities, disposables) = NewAuthorities(master);
        using var _ = disposables;
        var installer = new RekeyInstaller(TimeProvider.System);
        installer.Split(TrustInstallerTests.Scan(master), authorities);
        installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.Trust, authorities);
        var before = FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups);

        var error = Assert.Throws<PkiException>(() => installer.Apply(TrustInstallerTests.Scan(master), RekeyStage.Retire,
            authorities.Select(a => a with { NewKeyPem = null }).ToList()));

        Assert.Contains("would no longer match", error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups)));
    }

    /// <summary>New CAs for master's ca.crt and front-proxy-ca.crt; new-ca.crt beside the node folder's root for openssl.</summary>
    internal static (List<RekeyPair> Authorities, Disposables Keys) NewAuthorities(string master)
    {
        var made = new Disposables();
        var pairs = new List<RekeyPair>();
        foreach (var name in new[] { "ca", "front-proxy-ca" })
        {
            var old = OpensslScratch.LoadCertificate(Path.Combine(master, Pki, name + ".crt"));
            var next = NewAuthority.Create(old, new NewAuthorityRequest(TimeSpan.FromDays(3650)), TimeProvider.System);
            made.Add(next);
            pairs.Add(new RekeyPair(old, next.Certificate, next.KeyPem));
            File.WriteAllText(Path.Combine(master, $"new-{name}.crt"), next.Certificate.ToPem());
        }
        return (pairs, made);
    }

    private static int Certificates(string file) => File.ReadAllText(file).Split("BEGIN CERTIFICATE").Length - 1;

    private static string Base64Body(string pemFile) =>
        PemBody().Match(File.ReadAllText(pemFile)).Groups[1].Value.Replace("\n", "", StringComparison.Ordinal)[..64];

    [GeneratedRegex("-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+)-----END CERTIFICATE-----")]
    private static partial Regex PemBody();

    internal sealed class Disposables : List<IDisposable>, IDisposable
    {
        public void Dispose() => ForEach(d => d.Dispose());
    }
}
