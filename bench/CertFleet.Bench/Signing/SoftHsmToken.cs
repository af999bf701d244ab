using System.Diagnostics;
using System.Runtime.InteropServices;
using CertFleet.Pki.Keys;

namespace CertFleet.Bench.Signing;

/// <summary>
/// A SoftHSM2 token in a folder of its own, with one CA key generated inside it (pkcs11-tool), for the `sign-hsm`
/// bench. SOFTHSM2_CONF is set with setenv(3) too: the module in this process reads the native environment.
/// </summary>
internal sealed partial class SoftHsmToken : IDisposable
{
    public const string SoftHsmModule = "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so";
    private const string Label = "certfleet-bench";
    private const string Pin = "20262026";

    private SoftHsmToken(string folder, string module)
    {
        Folder = folder;
        Module = module;
        PinFile = Path.Combine(folder, "pin");
    }

    public string Folder { get; }

    /// <summary>The PKCS#11 module the engine and Pkcs11Interop load.</summary>
    public string Module { get; }

    public string PinFile { get; }

    public static string PinText => Pin;

    public static string TokenLabel => Label;

    /// <summary>The URI the coordinator gets, the module named in it.</summary>
    public string Uri => $"pkcs11:token={Label};object=ca?module-path={Module}";

    public static SoftHsmToken Create(string keyType, string module)
    {
        if (!File.Exists(SoftHsmModule))
        {
            throw new BenchException("SoftHSM2 is not installed: apt-get install softhsm2 opensc libengine-pkcs11-openssl");
        }
        var folder = Directory.CreateTempSubdirectory("certfleet-bench-hsm-").FullName;
        var tokens = Directory.CreateDirectory(Path.Combine(folder, "tokens")).FullName;
        var config = Path.Combine(folder, "softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n");
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", config);
        _ = SetEnvironment("SOFTHSM2_CONF", config, 1);
        Run("softhsm2-util", "--init-token", "--free", "--label", Label, "--pin", Pin, "--so-pin", "12345678");
        Run("pkcs11-tool", "--module", SoftHsmModule, "--token-label", Label, "--login", "--pin", Pin, "--keypairgen",
            "--key-type", keyType == "rsa2048" ? "rsa:2048" : "EC:prime256v1", "--label", "ca", "--id", "01", "--usage-sign", "--sensitive");
        var token = new SoftHsmToken(folder, module);
        File.WriteAllText(token.PinFile, Pin);
        File.SetUnixFileMode(token.PinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return token;
    }

    /// <summary>The CA key, opened through OpenSSL's pkcs11 engine as the coordinator opens it.</summary>
    public PrivateKey Open() => PrivateKey.Open(Pkcs11KeyUri.Parse(Uri), Pin, PinFile);

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private static void Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info) ?? throw new BenchException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new BenchException($"{program} failed: {output.Result}{errors}");
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);
}
