using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>An encrypted PKCS#8 cluster CA key with its passphrase from a file or a systemd credential; a coordinator on 127.0.46.7.</summary>
public sealed class CaKeyPassphraseTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private readonly string _folder = ScratchDirectory.Create("ca-passphrase");
    private readonly string _caCert;
    private readonly string _encryptedKey;
    private readonly string _credentials;

    public CaKeyPassphraseTests()
    {
        _caCert = Path.Combine(_folder, "ca.crt");
        var plainKey = Path.Combine(_folder, "ca.plain.key");
        _encryptedKey = Path.Combine(_folder, "ca.key");
        _credentials = Path.Combine(_folder, "credentials");
        Directory.CreateDirectory(_credentials);
        File.WriteAllText(Path.Combine(_credentials, "ca-pass"), Passphrase + "\n");
        File.WriteAllText(Path.Combine(_folder, "wrong-pass"), "not it\n");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", plainKey,
            "-out", _caCert, "-subj", "/CN=kubernetes", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
        Openssl.Checked("pkcs8", "-topk8", "-in", plainKey, "-out", _encryptedKey, "-v2", "aes-256-cbc",
            "-passout", "file:" + Path.Combine(_credentials, "ca-pass"));
        File.Delete(plainKey);
    }

    public void Dispose() => ScratchDirectory.Delete(_folder);

    [Fact]
    public void Parse_EncryptedKeyWithSystemdCredential_AcceptedAndResolvedUnderCredentialsDirectory()
    {
        var parsed = Parse(["--ca-key-passphrase-credential", "ca-pass"], _credentials);

        Assert.Empty(parsed.Problems);
        var authority = Assert.Single(parsed.Options!.ClusterAuthorities);
        Assert.Equal(Path.Combine(_credentials, "ca-pass"), authority.PassphraseFile);
        Assert.Contains("ENCRYPTED PRIVATE KEY", File.ReadAllText(_encryptedKey), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EncryptedKeyWithoutPassphrase_SaysItIsEncrypted()
    {
        var parsed = Parse([], null);

        Assert.Contains(parsed.Problems, p => p.Contains($"--ca-key {_encryptedKey}: the private key is encrypted with a passphrase", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_WrongPassphraseFile_SaysCheckThePassphraseWithoutShowingIt()
    {
        var parsed = Parse(["--ca-key-passphrase-file", Path.Combine(_folder, "wrong-pass")], null);

        var problem = Assert.Single(parsed.Problems);
        Assert.Contains("could not be decrypted", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("not it", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CredentialWithoutCredentialsDirectoryOrAsAPath_NamesTheFix()
    {
        var unset = Parse(["--ca-key-passphrase-credential", "ca-pass"], null);
        var path = Parse(["--ca-key-passphrase-credential", "/etc/pass"], _credentials);
        var counts = Parse(["--ca-key-passphrase-file", "a", "--ca-key-passphrase-file", "b"], null);

        Assert.Contains(unset.Problems, p => p.Contains("$CREDENTIALS_DIRECTORY is not set; run under systemd with LoadCredential=ca-pass:", StringComparison.Ordinal));
        Assert.Contains(path.Problems, p => p.Contains("give the credential's name", StringComparison.Ordinal));
        Assert.Contains(counts.Problems, p => p.Contains("2 CA key passphrases for 1 --ca-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Coordinator_EncryptedCaKeyWithPassphraseFile_StartsAndSigns()
    {
        var authority = new ClusterAuthorityFiles(_caCert, _encryptedKey, Path.Combine(_credentials, "ca-pass"));

        await using var coordinator = await TestCoordinator.StartAsync("127.0.46.7:7443", authorities: [authority]);
        var loaded = Assert.Single(coordinator.Services.GetRequiredService<ClusterAuthorities>().All);
        var renewed = new CertFleet.Pki.Signing.CertificateIssuer(TimeProvider.System).RenewAuthority(loaded, TimeSpan.FromDays(3650));

        Assert.Equal("CN=kubernetes", loaded.Certificate.Subject);
        Assert.True(renewed.IsIssuedBy(loaded.Certificate), "the decrypted key signs");
        var plan = await coordinator.Admin().PlanAsync(new RolloutRequest { All = true, RenewAuthorities = true }, deadline: DateTime.UtcNow.AddSeconds(20));
        Assert.NotNull(plan);
    }

    [Fact]
    public void Parse_CaKeyOrItsFolderWritableByOtherUsers_RefusedWithTheChmodToRun()
    {
        var passphrase = Path.Combine(_credentials, "ca-pass");
        File.SetUnixFileMode(_encryptedKey, (UnixFileMode)0x1b6); // 0666: anyone may put their own key here
        var writableKey = Parse(["--ca-key-passphrase-file", passphrase], null);
        File.SetUnixFileMode(_encryptedKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(_folder, (UnixFileMode)0x1ff); // 0777, not sticky: anyone may rename another file over it
        var writableFolder = Parse(["--ca-key-passphrase-file", passphrase], null);
        File.SetUnixFileMode(_folder, (UnixFileMode)0x1ed); // 0755
        File.SetUnixFileMode(_encryptedKey, (UnixFileMode)0x1a4); // 0644, as kubeasz and OpenSSL 1.0.2 leave CA keys: a warning, not a refusal
        var readableKey = Parse(["--ca-key-passphrase-file", passphrase], null);

        Assert.Contains(writableKey.Problems, p => p.Contains($"--ca-key {_encryptedKey}: mode 0666 lets other users replace it; run `chmod 600 {_encryptedKey}`", StringComparison.Ordinal));
        Assert.Contains(writableFolder.Problems, p => p.Contains($"its folder {_folder} (mode 0777) lets other users put another file in its place", StringComparison.Ordinal));
        Assert.Empty(readableKey.Problems);
        Assert.Contains("chmod 600", SecretFileMode.Warning(_encryptedKey, "--ca-key"), StringComparison.Ordinal);
    }

    private CoordinatorCommandLine Parse(string[] extra, string? credentialsDirectory) =>
        CoordinatorCommandLine.Parse(["--listen", "127.0.46.7:7443", "--state-dir", Path.Combine(_folder, "state"),
            "--ca-cert", _caCert, "--ca-key", _encryptedKey, .. extra], name => name == "CREDENTIALS_DIRECTORY" ? credentialsDirectory : null);
}
