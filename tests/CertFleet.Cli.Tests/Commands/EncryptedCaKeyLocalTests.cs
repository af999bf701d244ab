using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// Local mode with a CA key kept traditionally encrypted (`genrsa -aes256` of OpenSSL 1.x). `certfleet renew --local`
/// has no passphrase option (it would sit in shell history, and a node's scan would have to decrypt every key it
/// finds): the key is named as encrypted, with how to decrypt it, and everything under that CA is left alone.
/// </summary>
public sealed class EncryptedCaKeyLocalTests(RsaClusterPkiFixture pki) : IClassFixture<RsaClusterPkiFixture>
{
    [Fact]
    public void Renew_LocalWithLegacyEncryptedCaKey_NamesTheKeyAsEncryptedAndLeavesItsCertificatesAlone()
    {
        var root = pki.CopyNode("master-1");
        var caKey = Path.Combine(root, "etc/kubernetes/pki/ca.key");
        Openssl.Checked("rsa", "-in", caKey, "-aes256", "-traditional", "-passout", "pass:old cluster", "-out", caKey);
        var keyBefore = File.ReadAllBytes(caKey);
        var apiserverBefore = File.ReadAllText(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root, "--ca");

        Assert.Equal(0, exitCode);
        Assert.Contains("/etc/kubernetes/pki/ca.key: the private key is encrypted with a passphrase (Proc-Type: 4,ENCRYPTED, AES-256-CBC); "
            + "CertFleet needs the key unencrypted (decrypt it with `openssl pkey -in KEY -out KEY.plain`", output, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/pki/apiserver.crt: its CA CN=kubernetes (/etc/kubernetes/pki/ca.crt) has no private key on this node", output, StringComparison.Ordinal);
        Assert.Equal(keyBefore, File.ReadAllBytes(caKey));
        Assert.Equal(apiserverBefore, File.ReadAllText(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt")));
    }
}
