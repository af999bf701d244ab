using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Signing;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>
/// A cluster CA key as OpenSSL 1.x's `genrsa -aes256` left it (Proc-Type: 4,ENCRYPTED), made by the openssl CLI, its
/// passphrase from a file or a systemd credential; a coordinator on 127.0.153.1. openssl verifies what it signs.
/// </summary>
public sealed class LegacyEncryptedCaKeyTests : IDisposable
{
    private const string Passphrase = "kubernetes the hard way, 2019";
    private readonly string _folder = ScratchDirectory.Create("ca-legacy");
    private readonly string _passphraseFile;

    public LegacyEncryptedCaKeyTests()
    {
        _passphraseFile = Path.Combine(_folder, "ca-pass");
        File.WriteAllText(_passphraseFile, Passphrase + "\n");
        File.SetUnixFileMode(_passphraseFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Dispose() => ScratchDirectory.Delete(_folder);

    [Theory]
    [InlineData("rsa", "-aes256")]
    [InlineData("ec", "-aes128")]
    [InlineData("rsa", "-des3")]
    public async Task Coordinator_LegacyEncryptedCaKey_StartsSignsWhatOpensslVerifiesAndNeverWritesTheKey(string type, string cipher)
    {
        var (caCert, caKey) = LegacyCa(type, cipher);
        var keyBefore = File.ReadAllBytes(caKey);
        var leafKey = Path.Combine(_folder, "leaf.key");
        var leaf = Path.Combine(_folder, "leaf.crt");
        Openssl.Checked("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", leafKey, "-subj", "/CN=kube-apiserver",
            "-out", leaf + ".csr");
        Openssl.Checked("x509", "-req", "-in", leaf + ".csr", "-CA", caCert, "-CAkey", caKey, "-passin", "file:" + _passphraseFile,
            "-CAcreateserial", "-days", "2", "-out", leaf);
        var parsed = Parse(caCert, caKey, ["--ca-key-passphrase-file", _passphraseFile]);
        Assert.Empty(parsed.Problems);

        // The state dir is scanned once the coordinator has stopped: while it runs, SQLite creates and removes its
        // -shm and -wal files under the scan.
        await using (var coordinator = await TestCoordinator.StartAsync("127.0.153.1:7443", stateDirectory: Path.Combine(_folder, "state"),
            authorities: parsed.Options!.ClusterAuthorities))
        {
            var loaded = Assert.Single(coordinator.Services.GetRequiredService<ClusterAuthorities>().All);
            SignsWhatOpensslVerifies(caCert, leaf, leafKey, loaded);
        }

        Assert.Equal(keyBefore, File.ReadAllBytes(caKey));
        var written = Directory.EnumerateFiles(Path.Combine(_folder, "state"), "*", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("Proc-Type", StringComparison.Ordinal)).ToList();
        Assert.Empty(written);
    }

    private void SignsWhatOpensslVerifies(string caCert, string leaf, string leafKey, CertificateAuthority loaded)
    {
        var previous = CertFleet.Pki.Certificates.CertificateInfo.Parse(
            CertFleet.Pki.PemEncoding.Pem.Read(File.ReadAllText(leaf), leaf)[0].Der, leaf);
        var csr = Convert.FromBase64String(string.Concat(Openssl.Checked("x509", "-x509toreq", "-in", leaf, "-signkey", leafKey)
            .Split('\n').SkipWhile(l => !l.StartsWith("-----BEGIN CERTIFICATE REQUEST", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.StartsWith("-----END", StringComparison.Ordinal))));
        var renewed = new CertificateIssuer(TimeProvider.System).Renew(csr, previous, loaded, TimeSpan.FromDays(365));
        var renewedFile = Path.Combine(_folder, "renewed.crt");
        File.WriteAllText(renewedFile, renewed.ToPem());

        var verify = Openssl.Verify(caCert, renewedFile);
        Assert.True(verify.ExitCode == 0, verify.StandardOutput + verify.StandardError);
    }

    [Fact]
    public void Parse_LegacyEncryptedCaKeyWithSystemdCredential_Accepted()
    {
        var (caCert, caKey) = LegacyCa("rsa", "-aes256");

        var parsed = Parse(caCert, caKey, ["--ca-key-passphrase-credential", "ca-pass"], credentials: _folder);

        Assert.Empty(parsed.Problems);
    }

    [Fact]
    public async Task RunAsync_LegacyEncryptedCaKeyWrongPassphrase_OneErrorNamingTheKeyExitTwo()
    {
        var (caCert, caKey) = LegacyCa("ec", "-aes256");
        var wrong = Path.Combine(_folder, "wrong-pass");
        File.WriteAllText(wrong, "hunter2\n");
        File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var (exitCode, problems) = await RunAsync(caCert, caKey, ["--ca-key-passphrase-file", wrong]);

        Assert.Equal(2, exitCode);
        var problem = Assert.Single(problems);
        Assert.Equal($"certfleet-coordinator: --ca-key {caKey}: the encrypted private key (AES-256-CBC) could not be decrypted "
            + "(wrong passphrase, or a damaged file); check the passphrase", problem);
        Assert.DoesNotContain("hunter2", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LegacyEncryptedCaKeyUnknownCipher_OneErrorNamingTheCipherAndTheConversionExitTwo()
    {
        var (caCert, caKey) = LegacyCa("rsa", "-aria256");

        var (exitCode, problems) = await RunAsync(caCert, caKey, ["--ca-key-passphrase-file", _passphraseFile]);

        Assert.Equal(2, exitCode);
        var problem = Assert.Single(problems);
        Assert.StartsWith($"certfleet-coordinator: --ca-key {caKey}: the key is encrypted with ARIA-256-CBC (its DEK-Info line), which CertFleet does not read",
            problem, StringComparison.Ordinal);
        Assert.Contains("openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.p8", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LegacyEncryptedCaKeyWithoutPassphrase_SaysEncryptedAndHowExitTwo()
    {
        var (caCert, caKey) = LegacyCa("rsa", "-aes256");

        var (exitCode, problems) = await RunAsync(caCert, caKey, []);

        Assert.Equal(2, exitCode);
        var problem = Assert.Single(problems);
        Assert.StartsWith($"certfleet-coordinator: --ca-key {caKey}: the private key is encrypted with a passphrase (Proc-Type: 4,ENCRYPTED, AES-256-CBC)",
            problem, StringComparison.Ordinal);
        Assert.Contains("give the passphrase", problem, StringComparison.Ordinal);
    }

    /// <summary>A CA whose key openssl wrote traditionally encrypted, as `genrsa -aes256` of OpenSSL 1.x did.</summary>
    private (string Certificate, string Key) LegacyCa(string type, string cipher)
    {
        var key = Path.Combine(_folder, $"ca-{type}{cipher}.key");
        var certificate = Path.ChangeExtension(key, ".crt");
        if (type == "rsa")
        {
            Openssl.Checked("genrsa", cipher, "-traditional", "-passout", "file:" + _passphraseFile, "-out", key, "2048");
        }
        else
        {
            Openssl.Checked("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key + ".plain");
            Openssl.Checked("ec", "-in", key + ".plain", cipher, "-passout", "file:" + _passphraseFile, "-out", key);
            File.Delete(key + ".plain");
        }
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Contains("Proc-Type: 4,ENCRYPTED", File.ReadAllText(key), StringComparison.Ordinal);
        Openssl.Checked("req", "-x509", "-key", key, "-passin", "file:" + _passphraseFile, "-out", certificate, "-subj", "/CN=kubernetes",
            "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return (certificate, key);
    }

    private CoordinatorCommandLine Parse(string caCert, string caKey, string[] extra, string? credentials = null) =>
        CoordinatorCommandLine.Parse(["--listen", "127.0.153.1:7443", "--state-dir", Path.Combine(_folder, "state"),
            "--ca-cert", caCert, "--ca-key", caKey, .. extra], name => name == "CREDENTIALS_DIRECTORY" ? credentials : null,
            defaultConfigFile: Path.Combine(_folder, "no-such.conf"));

    /// <summary>The coordinator's own entry point, as `certfleet-coordinator ARGS` runs it: every problem on stderr, an exit code.</summary>
    private async Task<(int ExitCode, IReadOnlyList<string> Problems)> RunAsync(string caCert, string caKey, string[] extra)
    {
        var error = new StringWriter();
        var exitCode = await CoordinatorHost.RunAsync(["--listen", "127.0.153.1:7443", "--state-dir", Path.Combine(_folder, "state"),
            "--ca-cert", caCert, "--ca-key", caKey, .. extra], TextWriter.Null, error);
        return (exitCode, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("Run 'certfleet-coordinator --help'", StringComparison.Ordinal)).ToList());
    }
}
