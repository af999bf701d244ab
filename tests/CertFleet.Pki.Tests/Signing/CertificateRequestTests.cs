using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Signing;

public sealed class CertificateRequestTests(SmallEcPkiFixture ec, SmallRsaPkiFixture rsa)
    : IClassFixture<SmallEcPkiFixture>, IClassFixture<SmallRsaPkiFixture>
{
    private string PkiFile(string keyType, string name) =>
        Path.Combine((keyType == "ec" ? ec : (ClusterPkiFixture)rsa).NodeRoot("master-1"), "etc/kubernetes/pki", name);

    private (OpensslScratch Scratch, string CsrFile, byte[] Der) MakeRequest(string keyType, string name)
    {
        var scratch = new OpensslScratch();
        var certificate = OpensslScratch.LoadCertificate(PkiFile(keyType, name + ".crt"));
        using var key = OpensslScratch.LoadKey(PkiFile(keyType, name + ".key"));
        var der = CertificateRequestBuilder.FromExistingCertificate(certificate, key);
        var file = scratch.WriteText(name + ".csr", Pem.Write("CERTIFICATE REQUEST", der));
        return (scratch, file, der);
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void FromExistingCertificate_FixtureLeaf_OpensslReqVerifyAcceptsIt(string keyType)
    {
        var (scratch, csr, _) = MakeRequest(keyType, "apiserver");
        using var _ = scratch;

        var result = Openssl.Run("req", "-in", csr, "-noout", "-verify");

        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Contains("verify OK", result.Combined, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("ec", "apiserver")]
    [InlineData("rsa", "etcd-peer")]
    [InlineData("ec", "admin")]
    public void FromExistingCertificate_FixtureLeaf_RequestsTheSameNamesAndUsages(string keyType, string name)
    {
        var (scratch, csr, _) = MakeRequest(keyType, name);
        using var _ = scratch;
        var certificateText = Openssl.Text(PkiFile(keyType, name + ".crt"));

        var requestText = Openssl.Checked("req", "-in", csr, "-noout", "-text");

        Assert.NotNull(ExtensionBlock(certificateText, "Extended Key Usage"));
        foreach (var extension in new[] { "Subject Alternative Name", "Key Usage", "Extended Key Usage", "Basic Constraints" })
        {
            Assert.Equal(ExtensionBlock(certificateText, extension), ExtensionBlock(requestText, extension));
        }
        Assert.DoesNotContain("Authority Key Identifier", requestText, StringComparison.Ordinal);
    }

    [Fact]
    public void FromExistingCertificate_FixtureLeaf_SubjectAndKeyAreTheCertificates()
    {
        var (scratch, csr, der) = MakeRequest("ec", "apiserver-kubelet-client");
        using var _ = scratch;
        var certificate = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver-kubelet-client.crt"));

        var request = CertificateRequestInfo.Parse(der, csr);

        Assert.Equal(certificate.SubjectDer, request.SubjectDer);
        Assert.Equal(certificate.SubjectPublicKeyInfoDer, request.SubjectPublicKeyInfoDer);
        Assert.True(request.SignatureIsValid);
        Assert.Equal(
            Openssl.Subject(PkiFile("ec", "apiserver-kubelet-client.crt")),
            Openssl.Checked("req", "-in", csr, "-noout", "-subject", "-nameopt", "RFC2253").Trim());
        Assert.Equal(Openssl.PublicKey(PkiFile("ec", "apiserver-kubelet-client.crt")),
            Openssl.Checked("req", "-in", csr, "-noout", "-pubkey"));
    }

    [Fact]
    public void FromExistingCertificate_KeyOfAnotherCertificate_ThrowsSayingItDoesNotBelong()
    {
        var certificate = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt"));
        using var key = OpensslScratch.LoadKey(PkiFile("ec", "admin.key"));

        var error = Assert.Throws<PkiException>(() => CertificateRequestBuilder.FromExistingCertificate(certificate, key));

        Assert.Contains("does not belong", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OpensslRequestWithExtensions_ReadsThemInOrder()
    {
        using var scratch = new OpensslScratch();
        var key = scratch.EcKey("k.key");
        Openssl.Checked("req", "-new", "-key", key, "-subj", "/O=system:nodes/CN=system:node:w1", "-out", scratch.PathOf("r.csr"),
            "-addext", "subjectAltName=DNS:w1,IP:10.0.1.1", "-addext", "keyUsage=critical,digitalSignature");
        var der = Assert.Single(Pem.Read(File.ReadAllText(scratch.PathOf("r.csr")), "r.csr")).Der;

        var request = CertificateRequestInfo.Parse(der, "r.csr");

        Assert.True(request.SignatureIsValid);
        Assert.Equal(["2.5.29.17", "2.5.29.15"], request.Extensions.Select(e => e.Oid));
        Assert.Equal([false, true], request.Extensions.Select(e => e.Critical));
    }

    [Fact]
    public void Parse_RequestWithChangedSignature_SignatureIsNotValid()
    {
        var (scratch, _, der) = MakeRequest("rsa", "apiserver");
        using var _ = scratch;
        der[^5] ^= 0x20;

        Assert.False(CertificateRequestInfo.Parse(der, "apiserver.csr").SignatureIsValid);
    }

    [Fact]
    public void Parse_Garbage_ThrowsNamingTheSource()
    {
        var error = Assert.Throws<PkiException>(() => CertificateRequestInfo.Parse([0x30, 0x03, 0x02, 0x01], "node worker-7"));

        Assert.StartsWith("node worker-7: ", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The lines of one extension in `openssl -text` output (its header and values), or null.</summary>
    internal static string? ExtensionBlock(string text, string name)
    {
        var lines = text.Split('\n');
        var start = Array.FindIndex(lines, l => l.Trim().StartsWith("X509v3 " + name + ":", StringComparison.Ordinal));
        return start < 0 ? null : lines[start].Trim() + "\n" + lines[start + 1].Trim();
    }
}
