using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.PemEncoding;

public sealed class PemTests(SmallEcPkiFixture pki) : IClassFixture<SmallEcPkiFixture>
{
    private string PkiFile(string name) => Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki", name);

    private static byte[] OpensslDer(string certificateFile)
    {
        using var scratch = new OpensslScratch();
        Openssl.Checked("x509", "-in", certificateFile, "-outform", "DER", "-out", scratch.PathOf("c.der"));
        return File.ReadAllBytes(scratch.PathOf("c.der"));
    }

    [Fact]
    public void Read_BundleWithTwoCertificates_ReturnsBothInOrderWithTheirOffsets()
    {
        var ca = File.ReadAllText(PkiFile("ca.crt"));
        var leaf = File.ReadAllText(PkiFile("apiserver.crt"));
        var bundle = ca + leaf;

        var blocks = Pem.Read(bundle, "bundle.crt");

        Assert.Equal(2, blocks.Count);
        Assert.Equal(OpensslDer(PkiFile("ca.crt")), blocks[0].Der);
        Assert.Equal(OpensslDer(PkiFile("apiserver.crt")), blocks[1].Der);
        Assert.Equal(ca.TrimEnd(), bundle[blocks[0].Start..blocks[0].End]);
        Assert.Equal(leaf.TrimEnd(), bundle[blocks[1].Start..blocks[1].End]);
    }

    [Fact]
    public void Read_CertificateAndKeyInOneFile_ReturnsCertificateThenKey()
    {
        var text = File.ReadAllText(PkiFile("admin.crt")) + File.ReadAllText(PkiFile("admin.key"));

        var blocks = Pem.Read(text, "admin.pem");

        Assert.Equal(["CERTIFICATE", "EC PRIVATE KEY"], blocks.Select(b => b.Label));
    }

    [Fact]
    public void Read_CrlfAndBagAttributesAroundBlocks_ReadsTheSameBytes()
    {
        var original = File.ReadAllText(PkiFile("ca.crt"));
        var text = "Bag Attributes\r\n    localKeyID: 01 02 03\r\nsubject=CN=kubernetes\r\n" +
                   original.Replace("\n", "\r\n", StringComparison.Ordinal) + "trailing comment\r\n";

        var block = Assert.Single(Pem.Read(text, "ca.crt"));

        Assert.Equal(OpensslDer(PkiFile("ca.crt")), block.Der);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", text[block.Start..], StringComparison.Ordinal);
        Assert.EndsWith("-----END CERTIFICATE-----", text[..block.End], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedPem_ThrowsNamingTheFile()
    {
        var text = File.ReadAllText(PkiFile("apiserver.crt"));
        var truncated = text[..(text.Length / 2)];

        var error = Assert.Throws<PkiException>(() => Pem.Read(truncated, "/etc/kubernetes/pki/apiserver.crt"));

        Assert.StartsWith("/etc/kubernetes/pki/apiserver.crt: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("no '-----END CERTIFICATE-----'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedFirstBlockOfBundle_Throws()
    {
        var text = File.ReadAllText(PkiFile("apiserver.crt"));
        var damaged = text[..(text.Length / 2)] + "\n" + File.ReadAllText(PkiFile("ca.crt"));

        Assert.Throws<PkiException>(() => Pem.Read(damaged, "bundle.crt"));
    }

    [Fact]
    public void Read_CorruptBase64_ThrowsNamingTheFile()
    {
        var text = File.ReadAllText(PkiFile("apiserver.crt"));
        var lines = text.Split('\n');
        lines[2] = lines[2][..10] + "!!*" + lines[2][13..];

        var error = Assert.Throws<PkiException>(() => Pem.Read(string.Join('\n', lines), "apiserver.crt"));

        Assert.Contains("apiserver.crt", error.Message, StringComparison.Ordinal);
        Assert.Contains("base64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_LabelsDoNotMatch_Throws()
    {
        var text = File.ReadAllText(PkiFile("apiserver.crt")).Replace("END CERTIFICATE", "END PRIVATE KEY", StringComparison.Ordinal);

        var error = Assert.Throws<PkiException>(() => Pem.Read(text, "apiserver.crt"));

        Assert.Contains("-----END PRIVATE KEY-----", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TextWithoutPem_ReturnsNoBlocks()
    {
        Assert.Empty(Pem.Read("apiVersion: v1\nkind: Config\n", "admin.conf"));
    }

    [Fact]
    public void Write_CertificateDer_OpensslReadsTheSameCertificate()
    {
        using var scratch = new OpensslScratch();
        var der = OpensslDer(PkiFile("apiserver.crt"));

        var pem = Pem.Write("CERTIFICATE", der);
        var path = scratch.WriteText("written.crt", pem);

        Assert.Equal(File.ReadAllText(PkiFile("apiserver.crt")), pem);
        Assert.Equal(Openssl.Serial(PkiFile("apiserver.crt")), Openssl.Serial(path));
        Assert.EndsWith("\n", pem, StringComparison.Ordinal);
        Assert.All(pem.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.True(line.Length <= 64 || line.StartsWith("-----", StringComparison.Ordinal)));
    }
}
