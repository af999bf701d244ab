using CertFleet.Agent.Handlers;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using CertFleet.Testing.Guides;

namespace CertFleet.Agent.Tests.Handlers;

/// <summary>
/// InstallRequest.self_signed on dotbalo's master, whose kubelet made its serving pair itself
/// (/var/lib/kubelet/pki/kubelet.crt: the leaf, then client-go's throwaway CA; kubelet.key the leaf's key).
/// </summary>
public sealed class SelfSignedInstallTests(DotbaloLayout layout) : IClassFixture<DotbaloLayout>
{
    private const string Serving = "var/lib/kubelet/pki/kubelet.crt";

    [Fact]
    public void InstallHandler_KubeletsOwnServingPair_RenewsItSelfSignedWithItsKeyAndDropsTheThrowawayCa()
    {
        var root = layout.Copy("master");
        var file = Path.Combine(root, Serving);
        var leaf = Certificates(file)[0];
        using var agent = new AgentUnderTest(root);

        var result = agent.Get<InstallHandler>().Handle(new InstallRequest
        {
            StepId = "self-signed", SelfSigned = { leaf.Sha256Fingerprint }, SelfSignedDays = 100,
        });

        Assert.True(result.Ok, result.Message);
        var renewed = Assert.Single(Certificates(file));
        Assert.Equal(leaf.Subject, renewed.Subject);
        Assert.Equal(leaf.Subject, renewed.Issuer);
        Assert.Equal(Openssl.Extension(Path.Combine(layout.NodeRoot("master"), Serving), "subjectAltName"), Openssl.Extension(file, "subjectAltName"));
        Assert.Equal(Openssl.Checked("pkey", "-in", Path.Combine(root, "var/lib/kubelet/pki/kubelet.key"), "-pubout"), Openssl.PublicKey(file));
        var verify = Openssl.Verify(file, file);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.InRange(renewed.NotAfter, DateTimeOffset.UtcNow.AddDays(99), DateTimeOffset.UtcNow.AddDays(101));
        Assert.Contains("/var/lib/kubelet/pki/kubelet.crt", result.ChangedFiles);
    }

    [Fact]
    public void InstallHandler_SelfSignedNamingACaSignedCertificate_IsRefusedAndNothingChanges()
    {
        var root = layout.Copy("master");
        var apiserver = Certificates(Path.Combine(root, "etc/kubernetes/pki/apiserver.pem"))[0];
        var before = FolderSnapshot.Take(root);
        using var agent = new AgentUnderTest(root);

        var result = agent.Get<InstallHandler>().Handle(new InstallRequest { StepId = "self-signed-apiserver", SelfSigned = { apiserver.Sha256Fingerprint } });

        Assert.False(result.Ok);
        Assert.Contains("is not the serving certificate the kubelet made for itself", result.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    private static List<CertificateInfo> Certificates(string file) =>
        Pem.Read(File.ReadAllText(file), file).Where(b => b.Label == "CERTIFICATE").Select(b => CertificateInfo.Parse(b.Der, file)).ToList();
}
