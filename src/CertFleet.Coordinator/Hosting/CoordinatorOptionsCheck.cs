using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Coordinator.Hosting;

/// <summary>Checks options before anything starts and lists every problem at once, each naming what to fix.</summary>
internal static class CoordinatorOptionsCheck
{
    public const string WindowWithoutThreshold =
        "--window only applies to automatic renewal; add --auto-renew-within D (e.g. 30d) or drop --window";

    public static IReadOnlyList<string> Problems(CoordinatorOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Listen))
        {
            problems.Add("--listen is missing; give the address agents and the CLI connect to, e.g. --listen 0.0.0.0:7443");
        }
        else if (ListenAddress.TryParse(options.Listen, "--listen", out var error) is null)
        {
            problems.Add(error!);
        }
        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            problems.Add("--state-dir is missing; give a folder for the coordinator's database and keys, e.g. --state-dir /var/lib/certfleet");
        }
        else if (File.Exists(options.StateDirectory))
        {
            problems.Add($"--state-dir {options.StateDirectory} is a file; give a folder (it is created when missing)");
        }
        if (options.MetricsListen is not null && ListenAddress.TryParse(options.MetricsListen, "--metrics-listen", out var metricsError) is null)
        {
            problems.Add(metricsError!);
        }
        if (options.AutoRenewWithin is { } within && within <= TimeSpan.Zero)
        {
            problems.Add("--auto-renew-within must be a positive duration such as 30d");
        }
        if (options.Window is not null && options.AutoRenewWithin is null)
        {
            problems.Add(WindowWithoutThreshold);
        }
        if (options.StepTimeout <= TimeSpan.Zero)
        {
            problems.Add("the step timeout must be positive");
        }
        foreach (var pair in options.ClusterAuthorities)
        {
            CheckAuthority(pair, problems);
        }
        return problems;
    }

    private static void CheckAuthority(ClusterAuthorityFiles pair, List<string> problems)
    {
        var modes = new[] { pair.KeyIsInToken ? null : SecretFileMode.Refusal(pair.KeyPath, "--ca-key") }
            .Append(pair.PassphraseFile is { } passphrase ? SecretFileMode.Refusal(passphrase, "the CA key's passphrase file") : null)
            .Append(pair.PinFile is { } pin ? SecretFileMode.Refusal(pin, "the CA key's PIN file") : null)
            .OfType<string>().ToList();
        if (modes.Count > 0)
        {
            problems.AddRange(modes);
            return; // nothing is read from a file someone else may have put there
        }
        var certificate = Read(pair.CertificatePath, "--ca-cert", problems, (text, path) =>
            Pem.Read(text, path).FirstOrDefault(b => b.Label == "CERTIFICATE") is { } block
                ? CertificateInfo.Parse(block.Der, path)
                : throw new PkiException($"--ca-cert {path}: holds no PEM CERTIFICATE block; point to the CA certificate file"));
        using var key = pair.KeyIsInToken ? Open(pair, problems) : Read(pair.KeyPath, "--ca-key", problems, (_, _) => ClusterAuthorityKey.Read(pair));
        if (certificate is null || key is null)
        {
            return;
        }
        if (!certificate.IsCa)
        {
            problems.Add($"--ca-cert {pair.CertificatePath}: '{certificate.Subject}' is not a CA certificate (basicConstraints CA:TRUE); point to the cluster CA");
        }
        if (!key.Matches(certificate))
        {
            problems.Add($"--ca-key {pair.KeyPath} does not match --ca-cert {pair.CertificatePath} ('{certificate.Subject}'); give the key that belongs to that certificate");
        }
    }

    /// <summary>A key in a PKCS#11 token: nothing to read as a file; the token is asked, and its answer is the problem.</summary>
    private static PrivateKey? Open(ClusterAuthorityFiles pair, List<string> problems)
    {
        try
        {
            return ClusterAuthorityKey.Read(pair);
        }
        catch (PkiException e)
        {
            problems.Add(e.Message.StartsWith("--", StringComparison.Ordinal) ? e.Message : $"--ca-key {e.Message}");
            return null;
        }
    }

    private static T? Read<T>(string path, string option, List<string> problems, Func<string, string, T> parse)
        where T : class
    {
        try
        {
            return parse(File.ReadAllText(path), path);
        }
        catch (PkiException e)
        {
            problems.Add(e.Message.StartsWith("--", StringComparison.Ordinal) ? e.Message : $"{option} {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{option} {path}: cannot be read ({e.Message}); check the path and that the coordinator's user may read it");
        }
        return null;
    }
}
