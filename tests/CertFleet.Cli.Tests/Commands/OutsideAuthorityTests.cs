using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// The emergency without a fleet: a worker's files copied to a folder on a master (or the management host) and renewed
/// there with the CA keys kept outside that folder (`--ca-cert F --ca-key F`), then checked with `verify --local --ca-cert`.
/// </summary>
public sealed class OutsideAuthorityTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private string MasterPki => Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");

    [Fact]
    public void RenewLocal_WorkerCopiedBesideTheMastersCaKey_RenewsKubeletAndKubeProxyWithTheirKeysAndVerifyPasses()
    {
        var root = pki.CopyNode("worker-1");
        var kubelet = Path.Combine(root, "etc/kubernetes/pki/worker-1.crt");
        var proxy = Path.Combine(root, "etc/kubernetes/pki/kube-proxy.crt");
        var keysBefore = (Openssl.PublicKey(kubelet), Openssl.PublicKey(proxy));
        var serialsBefore = (Openssl.Serial(kubelet), Openssl.Serial(proxy));

        var (exitCode, output, error) = CliRun.Invoke("renew", "--local", "--root", root,
            "--ca-cert", Path.Combine(MasterPki, "ca.crt"), "--ca-key", Path.Combine(MasterPki, "ca.key"));
        // the fixture's CAs expire in 30 days, inside verify's default warning window; the leaves are what is checked here
        var (verifyCode, verifyOutput, _) = CliRun.Invoke("verify", "--local", "--root", root, "--warn-within", "0",
            "--ca-cert", Path.Combine(MasterPki, "ca.crt"));

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("changed /etc/kubernetes/pki/worker-1.crt", output, StringComparison.Ordinal);
        Assert.Contains("changed /etc/kubernetes/pki/kube-proxy.crt", output, StringComparison.Ordinal);
        Assert.Contains("systemctl restart kubelet.service && systemctl restart kube-proxy.service", output, StringComparison.Ordinal);
        Assert.Equal(keysBefore, (Openssl.PublicKey(kubelet), Openssl.PublicKey(proxy)));
        Assert.NotEqual(serialsBefore, (Openssl.Serial(kubelet), Openssl.Serial(proxy)));
        Assert.Equal(0, Openssl.Verify(Path.Combine(MasterPki, "ca.crt"), kubelet).ExitCode);
        Assert.Equal(0, Openssl.Verify(Path.Combine(MasterPki, "ca.crt"), proxy).ExitCode);
        Assert.Contains("will not expire", Openssl.Checked("x509", "-in", kubelet, "-noout", "-checkend", "30000000"), StringComparison.Ordinal);
        Assert.True(verifyCode == 0, verifyOutput);
        // nothing was written where the CA keys are
        Assert.Empty(Directory.GetFiles(MasterPki, ".*certfleet-tmp*"));
    }

    [Fact]
    public void VerifyAndCheckExpiration_LeafWhoseCaIsNotUnderTheRoot_ChainsOnlyWithCaCert()
    {
        // a folder holding only the apiserver's pair, as copied from a master without its CA
        var root = ScratchDirectory.Create("only-a-leaf");
        var pkiFolder = Path.Combine(root, "etc/kubernetes/pki");
        Directory.CreateDirectory(pkiFolder);
        File.Copy(Path.Combine(MasterPki, "apiserver.crt"), Path.Combine(pkiFolder, "apiserver.crt"));
        File.Copy(Path.Combine(MasterPki, "apiserver.key"), Path.Combine(pkiFolder, "apiserver.key"));
        try
        {
            var (without, withoutOutput, _) = CliRun.Invoke("verify", "--local", "--root", root, "--warn-within", "0");
            var (with, withOutput, _) = CliRun.Invoke("verify", "--local", "--root", root, "--warn-within", "0", "--ca-cert", Path.Combine(MasterPki, "ca.crt"));
            var (_, table, _) = CliRun.Invoke("check-expiration", "--root", root, "--ca-cert", Path.Combine(MasterPki, "ca.crt"));

            Assert.Equal(1, without);
            Assert.Contains("does not chain to a CA on this node", withoutOutput, StringComparison.Ordinal);
            Assert.True(with == 0, withOutput);
            var row = Assert.Single(table.Split('\n'), l => l.StartsWith("/etc/kubernetes/pki/apiserver.crt ", StringComparison.Ordinal));
            Assert.Contains(" ca ", row, StringComparison.Ordinal);
        }
        finally
        {
            ScratchDirectory.Delete(root);
        }
    }

    [Fact]
    public void RenewLocal_EncryptedCaKeyWithItsPassphraseFile_Renews()
    {
        var root = pki.CopyNode("worker-1");
        var secrets = ScratchDirectory.Create("ca-secrets");
        try
        {
            var passphrase = Path.Combine(secrets, "ca.pass");
            var key = Path.Combine(secrets, "ca.key");
            File.WriteAllText(passphrase, "correct horse\n");
            File.SetUnixFileMode(passphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Openssl.Checked("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", Path.Combine(MasterPki, "ca.key"), "-out", key, "-passout", $"file:{passphrase}");
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);

            var (exitCode, output, error) = CliRun.Invoke("renew", "--local", "--root", root,
                "--ca-cert", Path.Combine(MasterPki, "ca.crt"), "--ca-key", key, "--ca-key-passphrase-file", passphrase);

            Assert.True(exitCode == 0, output + error);
            Assert.Contains("changed /etc/kubernetes/pki/worker-1.crt", output, StringComparison.Ordinal);
        }
        finally
        {
            ScratchDirectory.Delete(secrets);
        }
    }

    [Theory]
    [InlineData("no-key", "has no --ca-key")]
    [InlineData("other-ca-key", "does not match --ca-cert")]
    [InlineData("writable-key", "lets other users replace it")]
    [InlineData("not-a-ca", "is not a CA certificate")]
    public void RenewLocal_CaArgumentsThatDoNotDo_ExitTwoNamingTheProblemAndNothingChanges(string mistake, string problem)
    {
        var root = pki.CopyNode("worker-1");
        var before = FolderSnapshot.Take(root);
        var secrets = ScratchDirectory.Create("ca-mistakes");
        try
        {
            var key = Path.Combine(secrets, "ca.key");
            File.Copy(Path.Combine(MasterPki, mistake == "other-ca-key" ? "front-proxy-ca.key" : "ca.key"), key);
            File.SetUnixFileMode(key, mistake == "writable-key" ? (UnixFileMode)0x1b6 : UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var certificate = Path.Combine(MasterPki, mistake == "not-a-ca" ? "apiserver.crt" : "ca.crt");
            string[] arguments = mistake == "no-key"
                ? ["renew", "--local", "--root", root, "--ca-cert", certificate]
                : ["renew", "--local", "--root", root, "--ca-cert", certificate, "--ca-key", mistake == "not-a-ca" ? Path.Combine(MasterPki, "apiserver.key") : key];

            var (exitCode, output, error) = CliRun.Invoke(arguments);

            Assert.Equal(2, exitCode);
            Assert.Contains(problem, error, StringComparison.Ordinal);
            Assert.StartsWith("certfleet: ", error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
            Assert.Empty(output);
            Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
        }
        finally
        {
            ScratchDirectory.Delete(secrets);
        }
    }
}
