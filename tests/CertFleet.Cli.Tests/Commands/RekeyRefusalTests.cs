using CertFleet.Cli.Tests.Fleet;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// What the CLI refuses of a re-key before the coordinator hears of it (exit 2, a message that says why and what to
/// do, nothing asked): options that need --rekey-ca, selections a re-key has no use for, values it cannot read, and
/// --new-ca-cert/--new-ca-key files that will not do. The coordinator's own refusals: <see cref="RekeyRequestTests"/>.
/// </summary>
[Collection(RekeyCoordinator.Collection)]
public sealed class RekeyRefusalTests : IDisposable
{
    private readonly RekeyCoordinator _coordinator;
    private readonly string _scratch = ScratchDirectory.Create("rekey-refusal");

    public RekeyRefusalTests(RekeyCoordinator coordinator)
    {
        _coordinator = coordinator;
        coordinator.Reset();
    }

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    public static TheoryData<string, string> WithoutRekeyCa => new()
    {
        // each option that says how a CA is re-keyed, on both commands, with a value that would parse
        { "plan --subject /CN=x", "--subject needs --rekey-ca: it says how a CA is re-keyed; add --rekey-ca [CA], or drop --subject" },
        { "plan --key-type ec:P-384", "--key-type needs --rekey-ca" },
        { "plan --new-ca-cert ca.crt --new-ca-key ca.key", "--new-ca-cert needs --rekey-ca" },
        { "plan --new-ca-key ca.key", "--new-ca-key needs --rekey-ca" },
        { "plan --allow-weaker", "--allow-weaker needs --rekey-ca" },
        { "plan --stop-after trust", "--stop-after needs --rekey-ca" },
        { "renew --all --subject /CN=x", "--subject needs --rekey-ca" },
        { "renew --all --key-type rsa:4096", "--key-type needs --rekey-ca" },
        { "renew --all --new-ca-cert ca.crt --new-ca-key ca.key", "--new-ca-key needs --rekey-ca" },
        { "renew --all --allow-weaker", "--allow-weaker needs --rekey-ca" },
        { "renew --all --stop-after issue --wait", "--stop-after needs --rekey-ca" },
    };

    public static TheoryData<string, string> WithRekeyCa => new()
    {
        { "renew --rekey-ca --wait", "renew --rekey-ca needs --all: a re-key re-issues every leaf of the re-keyed CAs, on every node; add --all" },
        { "renew --rekey-ca --dry-run", "renew --rekey-ca needs --all" },
        { "renew --all --rekey-ca --ca", "--rekey-ca and --ca exclude each other: --ca renews the CA certificates with their old keys" },
        { "plan --rekey-ca kubernetes-ca --ca", "--rekey-ca and --ca exclude each other" },
        { "plan --rekey-ca --expiring-within 7d", "--rekey-ca re-issues every leaf of the re-keyed CAs, whatever its expiry: drop --expiring-within" },
        { "renew --rekey-ca --expiring-within 7d", "--rekey-ca re-issues every leaf of the re-keyed CAs, whatever its expiry" },
        { "plan --rekey-ca --exclude-node worker-1", "--rekey-ca reaches every node" },
        // a word after --rekey-ca that starts with '-' and is no option: a mistyped option, never a CA
        { "plan --rekey-ca -kubernetes-ca", "--rekey-ca '-kubernetes-ca': a CA's name does not start with '-'" },
        { "plan --rekey-ca=", "--rekey-ca is given an empty CA name" },
        { "plan --rekey-ca --rekey-ca etcd-ca", "--rekey-ca is given alone (every CA) and with a CA (etcd-ca)" },
        { "plan --rekey-ca --key-type rsa:1024", "--key-type 'rsa:1024' is not a key type CertFleet makes; give rsa:2048, rsa:3072, rsa:4096, ec:P-256, ec:P-384 or ec:P-521" },
        { "plan --rekey-ca --key-type dsa", "--key-type 'dsa' is not a key type CertFleet makes" },
        { "plan --rekey-ca --stop-after retire", "--stop-after 'retire' is not a phase to stop after: give trust" },
        { "plan --rekey-ca --subject CN=x,O=ops", "--subject 'CN=x,O=ops' is not a subject as openssl writes one; write it as /CN=kubernetes-ca/O=ops" },
        { "plan --rekey-ca --ca-days 0", "--ca-days must be a whole number of days greater than 0" },
        { "plan --rekey-ca kubernetes-ca --new-ca-cert ca.crt", "--new-ca-cert and --new-ca-key go together" },
        { "plan --rekey-ca kubernetes-ca --new-ca-key ca.key", "--new-ca-cert and --new-ca-key go together" },
        { "plan --rekey-ca --new-ca-cert ca.crt --new-ca-key ca.key", "--new-ca-cert is the new certificate of one CA: name that CA, --rekey-ca CA" },
        { "plan --rekey-ca a --rekey-ca b --new-ca-cert ca.crt --new-ca-key ca.key", "--new-ca-cert is the new certificate of one CA, and --rekey-ca names 2 (a, b)" },
        { "plan --rekey-ca a --new-ca-cert ca.crt --new-ca-key ca.key --key-type ec:P-256", "--key-type means nothing with --new-ca-cert" },
        { "plan --rekey-ca a --new-ca-cert ca.crt --new-ca-key ca.key --subject /CN=a", "--subject means nothing with --new-ca-cert" },
        { "renew --all --rekey-ca a --new-ca-cert ca.crt --new-ca-key ca.key --ca-days 730", "--ca-days means nothing with --new-ca-cert" },
    };

    [Theory]
    [MemberData(nameof(WithoutRekeyCa))]
    [MemberData(nameof(WithRekeyCa))]
    public async Task Command_OptionsThatDoNotGoTogether_ExitsTwoSayingWhyAndAsksNothing(string arguments, string message)
    {
        var (exitCode, output, error) = await _coordinator.RunAsync(arguments.Split(' '));

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains($"certfleet: {message}", error, StringComparison.Ordinal);
        Assert.EndsWith("Run 'certfleet --help' for usage.\n", error, StringComparison.Ordinal);
        Assert.Empty(_coordinator.Rollouts.Requests);
    }

    [Theory]
    [InlineData("missing certificate", "--new-ca-cert {cert}: no such file")]
    [InlineData("missing key", "--new-ca-key {key}: no such file")]
    [InlineData("key is a folder", "--new-ca-key {key} is a folder; give the file")]
    [InlineData("certificate for key", "--new-ca-key {key} holds no PEM private key")]
    [InlineData("public key for certificate", "--new-ca-cert {cert} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    [InlineData("certificate with its key", "--new-ca-cert {cert} holds a private key too; give the certificate alone there and its key with --new-ca-key")]
    [InlineData("two certificates", "--new-ca-cert {cert} holds 2 certificates; give the new CA's certificate alone")]
    [InlineData("DER certificate", "--new-ca-cert {cert} is not text, so not PEM (a DER file?)")]
    [InlineData("encrypted key", "--new-ca-key {key} is encrypted, and a re-key has no way to pass its passphrase")]
    [InlineData("certificate over 1 MiB", "--new-ca-cert {cert} is larger than 1 MiB")]
    public async Task RenewRekeyCa_NewCaFileThatWillNotDo_ExitsTwoNamingTheFileAndSendsNothing(string problem, string message)
    {
        var (certificate, key) = NewCaFiles.Make(_scratch, "pkcs8");
        (certificate, key) = Spoil(problem, certificate, key);

        var (exitCode, output, error) = await _coordinator.RunAsync("renew", "--all", "--rekey-ca", "kubernetes-ca",
            "--new-ca-cert", certificate, "--new-ca-key", key, "--wait");

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains($"certfleet: {message.Replace("{cert}", certificate, StringComparison.Ordinal).Replace("{key}", key, StringComparison.Ordinal)}",
            error, StringComparison.Ordinal);
        Assert.EndsWith("certfleet: nothing was sent to the coordinator\n", error, StringComparison.Ordinal);
        Assert.Empty(_coordinator.Rollouts.Requests);
    }

    [Fact]
    public async Task RenewRekeyCa_BothFilesMissing_NamesEachAtOnce()
    {
        var certificate = Path.Combine(_scratch, "nowhere.crt");
        var key = Path.Combine(_scratch, "nowhere.key");

        var (exitCode, _, error) = await _coordinator.RunAsync("plan", "--rekey-ca", "kubernetes-ca", "--new-ca-cert", certificate, "--new-ca-key", key);

        Assert.Equal(2, exitCode);
        Assert.Equal($"certfleet: --new-ca-cert {certificate}: no such file\ncertfleet: --new-ca-key {key}: no such file\n"
            + "certfleet: nothing was sent to the coordinator\n", error);
        Assert.Empty(_coordinator.Rollouts.Requests);
    }

    /// <summary>The pair made wrong the way <paramref name="problem"/> says.</summary>
    private (string Certificate, string Key) Spoil(string problem, string certificate, string key)
    {
        var spoiled = Path.Combine(_scratch, "spoiled.pem");
        switch (problem)
        {
            case "missing certificate":
                return (Path.Combine(_scratch, "no-such.crt"), key);
            case "missing key":
                return (certificate, Path.Combine(_scratch, "no-such.key"));
            case "key is a folder":
                return (certificate, _scratch);
            case "certificate for key":
                return (certificate, certificate);
            case "public key for certificate":
                Openssl.Checked("pkey", "-in", key, "-pubout", "-out", spoiled);
                return (spoiled, key);
            case "certificate with its key":
                File.WriteAllText(spoiled, File.ReadAllText(certificate) + File.ReadAllText(key));
                return (spoiled, key);
            case "two certificates":
                File.WriteAllText(spoiled, File.ReadAllText(certificate) + File.ReadAllText(certificate));
                return (spoiled, key);
            case "DER certificate":
                Openssl.Checked("x509", "-in", certificate, "-outform", "DER", "-out", spoiled);
                return (spoiled, key);
            case "encrypted key":
                Openssl.Checked("pkey", "-in", key, "-aes256", "-passout", "pass:secret", "-out", spoiled);
                return (certificate, spoiled);
            case "certificate over 1 MiB":
                // a PEM certificate after a megabyte of comment: still PEM, but no CA certificate is that large
                File.WriteAllText(spoiled, new string('#', 1024 * 1024) + "\n" + File.ReadAllText(certificate));
                return (spoiled, key);
            default:
                throw new ArgumentException($"no way to spoil the pair for '{problem}'", nameof(problem));
        }
    }
}
