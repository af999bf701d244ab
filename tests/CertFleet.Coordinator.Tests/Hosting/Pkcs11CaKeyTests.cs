using System.Security.Cryptography;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>
/// Cluster CA keys generated inside a SoftHSM2 token, named by `pkcs11:` URIs as an operator writes them (the system's
/// p11-kit proxy finds SoftHSM), the PIN from a file or a systemd credential; a coordinator on 127.0.153.2.
/// openssl verifies what the token signed.
/// </summary>
public sealed class Pkcs11CaKeyTests : IDisposable
{
    private readonly SoftHsm _hsm = SoftHsm.Shared;
    private readonly string _folder = ScratchDirectory.Create("ca-pkcs11");

    public void Dispose() => ScratchDirectory.Delete(_folder);

    [Fact]
    public async Task Coordinator_RsaAndEcKeysInToken_StartSignsWhatOpensslVerifiesAndNeverHoldsTheKey()
    {
        var rsaLeaf = Leaf(_hsm.RsaCertificate, SoftHsm.RsaKey, "kube-apiserver");
        var ecLeaf = Leaf(_hsm.EcCertificate, SoftHsm.EcKey, "front-proxy-client");
        var parsed = Parse(["--ca-cert", _hsm.RsaCertificate, "--ca-key", SoftHsm.Uri(SoftHsm.RsaKey),
            "--ca-cert", _hsm.EcCertificate, "--ca-key", SoftHsm.Uri(SoftHsm.EcKey), "--ca-key-pin-file", _hsm.PinFile]);
        Assert.Empty(parsed.Problems);

        await using var coordinator = await TestCoordinator.StartAsync("127.0.153.2:7443", stateDirectory: Path.Combine(_folder, "state"),
            authorities: parsed.Options!.ClusterAuthorities);
        var authorities = coordinator.Services.GetRequiredService<ClusterAuthorities>().All;

        Assert.Equal(["RSA 2048 in PKCS#11 token 'certfleet-ca'", "ECDSA P-256 in PKCS#11 token 'certfleet-ca'"],
            authorities.Select(a => a.Key.Description));
        foreach (var (authority, (leaf, leafKey), caFile) in authorities.Zip([rsaLeaf, ecLeaf], [_hsm.RsaCertificate, _hsm.EcCertificate]))
        {
            var renewed = Save(Renew(leaf, leafKey, authority), "renewed-" + Path.GetFileName(leaf));
            AssertVerifies(caFile, renewed);
            // the CA renewed with its own key, inside the token: the leaf made before still chains to it
            AssertVerifies(Save(new CertificateIssuer(TimeProvider.System).RenewAuthority(authority, TimeSpan.FromDays(3650)), "renewed-ca.crt"), leaf);
            Assert.ThrowsAny<CryptographicException>(() => authority.Key.Algorithm.ExportPkcs8PrivateKey());
        }
        Assert.Throws<CryptographicException>(() => ((RSA)authorities[0].Key.Algorithm).ExportParameters(includePrivateParameters: true));
        Assert.Equal(2, SoftHsm.ListPrivateKeys().Split("sensitive, always sensitive, never extractable").Length - 1);
    }

    [Fact]
    public void Parse_Pkcs11KeyWithPinCredential_AcceptedAndResolvedUnderCredentialsDirectory()
    {
        var parsed = Parse(["--ca-cert", _hsm.RsaCertificate, "--ca-key", SoftHsm.Uri(SoftHsm.RsaKey), "--ca-key-pin-credential", Path.GetFileName(_hsm.PinFile)],
            credentials: _hsm.Folder);

        Assert.Empty(parsed.Problems);
        var authority = Assert.Single(parsed.Options!.ClusterAuthorities);
        Assert.Equal(_hsm.PinFile, authority.PinFile);
        Assert.Null(authority.PassphraseFile);
    }

    [Fact]
    public void Parse_CoordinatorConfAsTheReadmeShowsIt_OpensTheTokensKeyWithThePinCredential()
    {
        var config = Path.Combine(_folder, "coordinator.conf");
        File.WriteAllText(config, $"""
            listen: 127.0.153.2:7443
            state-dir: {_folder}/state
            # the cluster CA, its key inside the HSM; the PIN from LoadCredential=ca-pin:/etc/certfleet/ca.pin
            ca-cert: {_hsm.RsaCertificate}
            ca-key: {SoftHsm.Uri(SoftHsm.RsaKey)}
            ca-key-pin-credential: {Path.GetFileName(_hsm.PinFile)}
            """);

        var parsed = CoordinatorCommandLine.Parse(["--config", config], name => name == "CREDENTIALS_DIRECTORY" ? _hsm.Folder : null);

        Assert.Empty(parsed.Problems);
        Assert.Equal(new ClusterAuthorityFiles(_hsm.RsaCertificate, "pkcs11:token=certfleet-ca;object=ca-rsa", null, _hsm.PinFile),
            Assert.Single(parsed.Options!.ClusterAuthorities));
    }

    [Fact]
    public void Parse_Pkcs11KeyBesideEncryptedFile_EachGetsItsOwnSecret()
    {
        var passphrase = Path.Combine(_folder, "pass");
        File.WriteAllText(passphrase, "file key pass\n");
        File.SetUnixFileMode(passphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var fileKey = Path.Combine(_folder, "ca.key");
        var fileCert = Path.Combine(_folder, "ca.crt");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", fileKey, "-passout", "file:" + passphrase,
            "-out", fileCert, "-subj", "/CN=file-ca", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");

        var parsed = Parse(["--ca-cert", _hsm.RsaCertificate, "--ca-key", SoftHsm.Uri(SoftHsm.RsaKey), "--ca-cert", fileCert, "--ca-key", fileKey,
            "--ca-key-pin-file", _hsm.PinFile, "--ca-key-passphrase-file", passphrase]);

        Assert.Empty(parsed.Problems);
        Assert.Equal([(null, _hsm.PinFile), (passphrase, null)], parsed.Options!.ClusterAuthorities.Select(a => (a.PassphraseFile, a.PinFile)));
    }

    [Fact]
    public void Parse_PinOptionForAKeyFileOrPassphraseOptionForATokenKey_SaysWhichOptionIsForWhich()
    {
        var fileKey = Path.Combine(_folder, "plain.key");
        var fileCert = Path.Combine(_folder, "plain.crt");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", fileKey,
            "-out", fileCert, "-subj", "/CN=file-ca", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");

        var pinForFile = Parse(["--ca-cert", fileCert, "--ca-key", fileKey, "--ca-key-pin-file", _hsm.PinFile]);
        var passphraseForToken = Parse(["--ca-cert", _hsm.RsaCertificate, "--ca-key", SoftHsm.Uri(SoftHsm.RsaKey), "--ca-key-passphrase-file", _hsm.PinFile]);

        Assert.Contains(pinForFile.Problems, p => p.StartsWith("--ca-key-pin-credential/--ca-key-pin-file give the PIN of a pkcs11: --ca-key, and there is none",
            StringComparison.Ordinal));
        Assert.Contains(passphraseForToken.Problems, p => p.StartsWith("--ca-key-passphrase-credential/--ca-key-passphrase-file decrypt a --ca-key file, "
            + "and every --ca-key is in a token; give the token's PIN with --ca-key-pin-credential", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_TokenNotThere_OneErrorNamingTheUriAndTheTokensThereExitTwo()
    {
        var (exitCode, problems) = await RunAsync(_hsm.RsaCertificate, SoftHsm.Uri(SoftHsm.RsaKey, token: "no-such-hsm"), _hsm.PinFile);

        Assert.Equal(2, exitCode);
        var problem = Assert.Single(problems);
        Assert.StartsWith("certfleet-coordinator: --ca-key pkcs11:token=no-such-hsm;object=ca-rsa: no token labelled 'no-such-hsm' in the PKCS#11 module "
            + "p11-kit-proxy.so (it shows ", problem, StringComparison.Ordinal);
        Assert.Contains("'certfleet-ca'", problem, StringComparison.Ordinal);
        Assert.Contains("check token= of the URI, that the HSM is connected", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.UserPin, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ObjectNotThere_OneErrorNamingTheKeyAndHowToListThemExitTwo()
    {
        var (exitCode, problems) = await RunAsync(_hsm.RsaCertificate, SoftHsm.Uri("kubernetes-ca-2019"), _hsm.PinFile);

        Assert.Equal(2, exitCode);
        var problem = Assert.Single(problems);
        Assert.StartsWith("certfleet-coordinator: --ca-key pkcs11:token=certfleet-ca;object=kubernetes-ca-2019: the token 'certfleet-ca' has no private key "
            + "labelled 'kubernetes-ca-2019'; check object= (or id=) of the URI: `pkcs11-tool --module p11-kit-proxy.so --token-label 'certfleet-ca' --login "
            + "--list-objects --type privkey` lists the keys", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TokenKeyNotTheCertificatesKey_OneErrorExitTwo()
    {
        var (exitCode, problems) = await RunAsync(_hsm.RsaCertificate, SoftHsm.Uri(SoftHsm.EcKey), _hsm.PinFile);

        Assert.Equal(2, exitCode);
        Assert.Equal($"certfleet-coordinator: --ca-key {SoftHsm.Uri(SoftHsm.EcKey)} does not match --ca-cert {_hsm.RsaCertificate} ('CN=kubernetes-hsm'); "
            + "give the key that belongs to that certificate", Assert.Single(problems));
    }

    [Fact]
    public async Task RunAsync_NoPinOrPinInTheUriOrPinFileOthersMayWrite_OneErrorEachExitTwo()
    {
        var loosePin = Path.Combine(_folder, "loose.pin");
        File.WriteAllText(loosePin, SoftHsm.UserPin);
        File.SetUnixFileMode(loosePin, (UnixFileMode)0x1b6); // 0666

        var noPin = await RunAsync(_hsm.RsaCertificate, SoftHsm.Uri(SoftHsm.RsaKey), pinFile: null);
        var inUri = await RunAsync(_hsm.RsaCertificate, SoftHsm.Uri(SoftHsm.RsaKey) + ";pin-value=" + SoftHsm.UserPin, pinFile: null);
        var loose = await RunAsync(_hsm.RsaCertificate, SoftHsm.Uri(SoftHsm.RsaKey), loosePin);

        Assert.Equal([2, 2, 2], [noPin.ExitCode, inUri.ExitCode, loose.ExitCode]);
        Assert.StartsWith("certfleet-coordinator: --ca-key pkcs11:token=certfleet-ca;object=ca-rsa: a key in a PKCS#11 token needs the token's PIN; "
            + "give it with --ca-key-pin-credential NAME", Assert.Single(noPin.Problems), StringComparison.Ordinal);
        var inUriProblem = Assert.Single(inUri.Problems);
        Assert.StartsWith("certfleet-coordinator: --ca-key a pkcs11: --ca-key holds its PIN (pin-value or pin-source): take the PIN out of the URI",
            inUriProblem, StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.UserPin, inUriProblem, StringComparison.Ordinal);
        Assert.Equal($"certfleet-coordinator: the CA key's PIN file {loosePin}: mode 0666 lets other users replace it; run `chmod 600 {loosePin}` "
            + "(and chown it to the user certfleet-coordinator runs as)", Assert.Single(loose.Problems));
    }

    /// <summary>
    /// The real program, in a process of its own: a wrong PIN is tried once by the token (in this test process an
    /// earlier right PIN would have left the token logged in), and the module is named in the URI.
    /// </summary>
    [Fact]
    public void Program_WrongPinWithModulePathInUri_OneErrorWithoutThePinAndExitTwo()
    {
        var wrongPin = Path.Combine(_folder, "wrong.pin");
        File.WriteAllText(wrongPin, "00000000\n");
        File.SetUnixFileMode(wrongPin, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var uri = SoftHsm.Uri(SoftHsm.RsaKey) + "?module-path=" + SoftHsm.Module;
        var emptyConfig = Path.Combine(_folder, "coordinator.conf"); // so no /etc/certfleet/coordinator.conf of this machine is read
        File.WriteAllText(emptyConfig, "");

        var result = ProcessRunner.Run("dotnet", [Programs.Dll("certfleet-coordinator"), "--config", emptyConfig,
            "--listen", "127.0.153.2:7443", "--state-dir", Path.Combine(_folder, "state"), "--ca-cert", _hsm.RsaCertificate, "--ca-key", uri,
            "--ca-key-pin-file", wrongPin], environment: new Dictionary<string, string> { ["SOFTHSM2_CONF"] = Path.Combine(_hsm.Folder, "softhsm2.conf") });

        Assert.Equal(2, result.ExitCode);
        var problems = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("Run '", StringComparison.Ordinal));
        Assert.Equal($"certfleet-coordinator: --ca-key {uri}: the token 'certfleet-ca' refused the PIN (the PIN from {wrongPin}): wrong PIN; put the "
            + "token's user PIN there. Each wrong PIN counts towards the token's lock-out, so check it before starting again", Assert.Single(problems));
        Assert.DoesNotContain("00000000", result.Combined, StringComparison.Ordinal);
    }

    /// <summary>A leaf openssl signed with the CA key inside the token, and its own key file.</summary>
    private (string Certificate, string Key) Leaf(string caCertificate, string caKey, string name)
    {
        var key = Path.Combine(_folder, name + ".key");
        var certificate = Path.Combine(_folder, name + ".crt");
        Openssl.Checked("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", "/CN=" + name, "-out", certificate + ".csr");
        Openssl.Checked("x509", "-req", "-in", certificate + ".csr", "-CA", caCertificate, "-engine", "pkcs11", "-CAkeyform", "engine",
            "-CAkey", $"{SoftHsm.Uri(caKey)};type=private;pin-value={SoftHsm.UserPin}", "-set_serial", "0x" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)),
            "-days", "2", "-out", certificate);
        return (certificate, key);
    }

    /// <summary>What the coordinator signs for a node renewing <paramref name="leaf"/>: a CSR from the leaf and its key (`x509 -x509toreq`).</summary>
    private static CertificateInfo Renew(string leaf, string leafKey, CertificateAuthority authority)
    {
        var previous = CertificateInfo.Parse(Pem.Read(File.ReadAllText(leaf), leaf)[0].Der, leaf);
        var csrText = Openssl.Checked("x509", "-x509toreq", "-in", leaf, "-signkey", leafKey);
        var csr = Pem.Read(csrText, "csr").Single(b => b.Label == "CERTIFICATE REQUEST").Der;
        return new CertificateIssuer(TimeProvider.System).Renew(csr, previous, authority, TimeSpan.FromDays(365));
    }

    private string Save(CertificateInfo certificate, string name)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, certificate.ToPem());
        return path;
    }

    private static void AssertVerifies(string caFile, string certificateFile)
    {
        var verify = Openssl.Verify(caFile, certificateFile);
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }

    private CoordinatorCommandLine Parse(string[] extra, string? credentials = null) =>
        CoordinatorCommandLine.Parse(["--listen", "127.0.153.2:7443", "--state-dir", Path.Combine(_folder, "state"), .. extra],
            name => name == "CREDENTIALS_DIRECTORY" ? credentials : null, defaultConfigFile: Path.Combine(_folder, "no-such.conf"));

    /// <summary>The coordinator's own entry point, as `certfleet-coordinator ARGS` runs it: every problem on stderr, an exit code.</summary>
    private async Task<(int ExitCode, IReadOnlyList<string> Problems)> RunAsync(string caCert, string caKey, string? pinFile)
    {
        var error = new StringWriter();
        var exitCode = await CoordinatorHost.RunAsync(["--listen", "127.0.153.2:7443", "--state-dir", Path.Combine(_folder, "state"),
            "--ca-cert", caCert, "--ca-key", caKey, .. pinFile is null ? Array.Empty<string>() : ["--ca-key-pin-file", pinFile]], TextWriter.Null, error);
        return (exitCode, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("Run 'certfleet-coordinator --help'", StringComparison.Ordinal)).ToList());
    }
}
