using System.Runtime.InteropServices;

namespace CertFleet.Testing;

/// <summary>
/// SoftHSM2 tokens for this test process, with CA keys generated inside them (pkcs11-tool from opensc) and CA
/// certificates openssl made from those keys through its pkcs11 engine. SoftHSM reads $SOFTHSM2_CONF and its token
/// folder when the module is initialized, and the coordinator's engine keeps it initialized for the process, so every
/// token is made at once, before any test opens a key: one private token folder per test process, made on first use.
/// The variable is set in the native environment too (setenv), where the module in this process reads it.
/// </summary>
public sealed partial class SoftHsm
{
    public const string Module = "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so";
    public const string Token = "certfleet-ca";
    public const string UserPin = "31415926";
    public const string SecurityOfficerPin = "27182818";
    public const string RsaKey = "ca-rsa";
    public const string EcKey = "ca-ec";

    private static readonly Lazy<SoftHsm> Tokens = new(() => new SoftHsm());

    private SoftHsm()
    {
        Folder = ScratchDirectory.Create("softhsm");
        // shared by the whole test process, so removed when it ends
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ScratchDirectory.Delete(Folder);
        var tokens = Directory.CreateDirectory(Path.Combine(Folder, "tokens")).FullName;
        var config = Path.Combine(Folder, "softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n");
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", config);
        if (SetEnvironment("SOFTHSM2_CONF", config, 1) != 0)
        {
            throw new InvalidOperationException("setenv SOFTHSM2_CONF failed");
        }
        ProcessRunner.RunChecked("softhsm2-util", "--init-token", "--free", "--label", Token, "--pin", UserPin, "--so-pin", SecurityOfficerPin);
        Generate(RsaKey, "01", "rsa:2048");
        Generate(EcKey, "02", "EC:prime256v1");
        PinFile = Path.Combine(Folder, "ca.pin");
        File.WriteAllText(PinFile, UserPin + "\n");
        File.SetUnixFileMode(PinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        RsaCertificate = Certificate(RsaKey, "/CN=kubernetes-hsm");
        EcCertificate = Certificate(EcKey, "/CN=front-proxy-ca-hsm");
    }

    /// <summary>The tokens of this process, made on first use.</summary>
    public static SoftHsm Shared => Tokens.Value;

    /// <summary>softhsm2-util and pkcs11-tool are installed (test.sh installs softhsm2, opensc and the engine).</summary>
    public static bool IsInstalled => File.Exists(Module) && File.Exists("/usr/bin/pkcs11-tool") && File.Exists("/usr/bin/softhsm2-util");

    public string Folder { get; }

    /// <summary>The user PIN, as a LoadCredential= file holds it (mode 0600, a trailing newline).</summary>
    public string PinFile { get; }

    /// <summary>A CA certificate (CN=kubernetes-hsm) of <see cref="RsaKey"/>, which never left the token.</summary>
    public string RsaCertificate { get; }

    /// <summary>A CA certificate (CN=front-proxy-ca-hsm) of <see cref="EcKey"/>, which never left the token.</summary>
    public string EcCertificate { get; }

    /// <summary>The URI an operator writes: the token and the key's label, nothing else.</summary>
    public static string Uri(string key, string token = Token) => $"pkcs11:token={token};object={key}";

    /// <summary>`pkcs11-tool --list-objects --type privkey` of the token: what the token says of its keys.</summary>
    public static string ListPrivateKeys() =>
        ProcessRunner.RunChecked("pkcs11-tool", "--module", Module, "--token-label", Token, "--login", "--pin", UserPin,
            "--list-objects", "--type", "privkey").StandardOutput;

    private static void Generate(string label, string id, string type) =>
        ProcessRunner.RunChecked("pkcs11-tool", "--module", Module, "--token-label", Token, "--login", "--pin", UserPin,
            "--keypairgen", "--key-type", type, "--label", label, "--id", id, "--usage-sign", "--sensitive");

    /// <summary>openssl makes the CA certificate with the key inside the token (its pkcs11 engine, p11-kit's proxy).</summary>
    private string Certificate(string key, string subject)
    {
        var path = Path.Combine(Folder, key + ".crt");
        Openssl.Checked("req", "-new", "-x509", "-engine", "pkcs11", "-keyform", "engine",
            "-key", $"{Uri(key)};type=private;pin-value={UserPin}", "-subj", subject, "-days", "3650", "-sha256",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", path);
        return path;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);
}
