using CertFleet.Coordinator.Hosting;
using CertFleet.Pki.Authorities;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>--config FILE and /etc/certfleet/coordinator.conf: the same options as `key: value` lines.</summary>
public sealed class CoordinatorConfigFileTests : IDisposable
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;
    private readonly string _folder = ScratchDirectory.Create("coordconf");
    private readonly string _caCert;
    private readonly string _caKey;
    private readonly string _otherKey;

    public CoordinatorConfigFileTests()
    {
        _caCert = Path.Combine(_folder, "ca.crt");
        _caKey = Path.Combine(_folder, "ca.key");
        _otherKey = Path.Combine(_folder, "other.key");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", _caKey,
            "-out", _caCert, "-subj", "/CN=kubernetes", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
        Openssl.Checked("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", _otherKey);
    }

    [Fact]
    public void Parse_ConfigFileOnly_GivesOptions()
    {
        var config = Write("full.conf", $"""
            # the coordinator
            listen: 127.0.21.9:7443
              state-dir: "{_folder}"

            ca-cert: {_caCert}
            ca-key: '{_caKey}'
            auto-renew-within: 30d
            window: Sat 02:00-04:00
            """);

        var parsed = CoordinatorCommandLine.Parse(["--config", config], NoEnvironment);

        Assert.Empty(parsed.Problems);
        var options = Assert.IsType<CoordinatorOptions>(parsed.Options);
        Assert.Equal("127.0.21.9:7443", options.Listen);
        Assert.Equal(_folder, options.StateDirectory);
        Assert.Equal([new ClusterAuthorityFiles(_caCert, _caKey)], options.ClusterAuthorities);
        Assert.Equal(TimeSpan.FromDays(30), options.AutoRenewWithin);
        Assert.Equal(new RenewalWindow(DayOfWeek.Saturday, new TimeOnly(2, 0), new TimeOnly(4, 0)), options.Window);
    }

    [Fact]
    public void Parse_RepeatedCaLines_GivesEveryPairInOrder()
    {
        var secondCert = Path.Combine(_folder, "front-proxy-ca.crt");
        var secondKey = Path.Combine(_folder, "front-proxy-ca.key");
        File.Copy(_caCert, secondCert);
        File.Copy(_caKey, secondKey);
        var config = Write("two.conf", $"listen: 127.0.21.9:7443\nstate-dir: {_folder}\n"
            + $"ca-cert: {_caCert}\nca-key: {_caKey}\nca-cert: {secondCert}\nca-key: {secondKey}\n");

        var parsed = CoordinatorCommandLine.Parse(["--config", config], NoEnvironment);

        Assert.Empty(parsed.Problems);
        Assert.Equal([new ClusterAuthorityFiles(_caCert, _caKey), new ClusterAuthorityFiles(secondCert, secondKey)],
            parsed.Options!.ClusterAuthorities);
    }

    [Fact]
    public void Parse_OptionOnCommandLineAndInFile_CommandLineWins()
    {
        // the file's CA pair does not match; the command line's replaces every CA line of the file
        var config = Write("override.conf", $"listen: 127.0.21.9:7443\nstate-dir: {_folder}\nca-cert: {_caCert}\nca-key: {_otherKey}\n");

        var parsed = CoordinatorCommandLine.Parse(
            ["--config", config, "--listen", "127.0.21.10:8443", "--ca-cert", _caCert, "--ca-key", _caKey], NoEnvironment);

        Assert.Empty(parsed.Problems);
        Assert.Equal("127.0.21.10:8443", parsed.Options!.Listen);
        Assert.Equal(_folder, parsed.Options.StateDirectory);
        Assert.Equal([new ClusterAuthorityFiles(_caCert, _caKey)], parsed.Options.ClusterAuthorities);
    }

    [Fact]
    public void Parse_DefaultFileExists_ReadsItWithoutConfigOption()
    {
        var config = Write("coordinator.conf", $"listen: 127.0.21.9:7443\nstate-dir: {_folder}\n");

        var parsed = CoordinatorCommandLine.Parse([], NoEnvironment, defaultConfigFile: config);

        Assert.Empty(parsed.Problems);
        Assert.Equal("127.0.21.9:7443", parsed.Options!.Listen);
    }

    [Fact]
    public void Parse_DefaultFileMissing_UsesTheCommandLineAlone()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.21.9:7443", "--state-dir", _folder], NoEnvironment,
            defaultConfigFile: Path.Combine(_folder, "absent.conf"));

        Assert.Empty(parsed.Problems);
    }

    [Fact]
    public void Parse_ExplicitConfigMissing_SaysItCannotBeRead()
    {
        var missing = Path.Combine(_folder, "absent.conf");

        var parsed = CoordinatorCommandLine.Parse(["--config", missing, "--listen", "127.0.21.9:7443", "--state-dir", _folder], NoEnvironment);

        Assert.Null(parsed.Options);
        Assert.StartsWith($"--config {missing}: cannot be read", Assert.Single(parsed.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownAndRepeatedKeys_NameFileAndLine()
    {
        var config = Write("bad.conf", $"listen: 127.0.21.9:7443\nstate-dir: {_folder}\nlisten: 127.0.21.10:7443\nport 7443\n");

        var parsed = CoordinatorCommandLine.Parse(["--config", config], NoEnvironment);

        Assert.Null(parsed.Options);
        Assert.Equal(
            [$"{config}:3: listen is already given on line 1; give it once",
             $"{config}:4: expected `key: value` with key one of auto-renew-within, ca-cert, ca-key, ca-key-passphrase-credential, ca-key-passphrase-file, ca-key-pin-credential, ca-key-pin-file, database, database-password-credential, database-password-file, lease-duration, listen, metrics-listen, notify-alertmanager, notify-webhook, state-dir, window"],
            parsed.Problems);
    }

    [Fact]
    public void Parse_PassphraseCredentialInFile_DecryptsTheKeyFromTheCredentialsDirectory()
    {
        var encryptedKey = Path.Combine(_folder, "ca-encrypted.key");
        Openssl.Checked("pkcs8", "-topk8", "-in", _caKey, "-out", encryptedKey, "-passout", "pass:correct horse");
        var credentials = Directory.CreateDirectory(Path.Combine(_folder, "credentials")).FullName;
        File.WriteAllText(Path.Combine(credentials, "ca-pass"), "correct horse\n");
        var config = Write("cred.conf", $"listen: 127.0.21.9:7443\nstate-dir: {_folder}\nca-key-passphrase-credential: ca-pass\n"
            + $"ca-cert: {_caCert}\nca-key: {encryptedKey}\n");

        var parsed = CoordinatorCommandLine.Parse(["--config", config], name => name == "CREDENTIALS_DIRECTORY" ? credentials : null);

        Assert.Empty(parsed.Problems);
        Assert.Equal(Path.Combine(credentials, "ca-pass"), parsed.Options!.ClusterAuthorities[0].PassphraseFile);
    }

    [Fact]
    public void Parse_ConfigGivenTwice_SaysGiveItOnce()
    {
        var config = Write("once.conf", $"listen: 127.0.21.9:7443\nstate-dir: {_folder}\n");

        var parsed = CoordinatorCommandLine.Parse(["--config", config, "--config", config], NoEnvironment);

        Assert.Equal(["--config is given twice; give it once"], parsed.Problems);
    }

    public void Dispose() => ScratchDirectory.Delete(_folder);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
