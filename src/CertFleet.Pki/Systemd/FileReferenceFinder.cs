namespace CertFleet.Pki.Systemd;

/// <summary>
/// Finds the certificate, key, CA and kubeconfig paths a service names: a flag or variable whose value (or a
/// comma-separated part of it) is an absolute path, and whose name or value says it is about TLS material.
/// </summary>
internal static class FileReferenceFinder
{
    private static readonly HashSet<string> TlsNameParts = new(StringComparer.OrdinalIgnoreCase)
    {
        "cert", "certs", "certificate", "certificates", "crt", "key", "keys", "ca", "cafile", "cacert", "capath",
        "certfile", "keyfile", "certdir", "tls", "ssl", "trusted", "kubeconfig", "pki", "x509", "pem",
    };

    private static readonly string[] TlsExtensions = [".crt", ".pem", ".key", ".kubeconfig", ".conf"];

    public static List<UnitFileReference> Find(string unit, IEnumerable<IReadOnlyList<string>> commands,
        IReadOnlyDictionary<string, string> environment)
    {
        var found = new List<UnitFileReference>();
        foreach (var argv in commands)
        {
            foreach (var (flag, value) in Flags(argv))
            {
                Add(found, unit, flag, value);
            }
        }
        foreach (var (name, value) in environment)
        {
            Add(found, unit, name, value);
        }
        return found.Distinct().ToList();
    }

    /// <summary>Every <c>--flag=value</c> and <c>--flag value</c> (one or two dashes, as Go programs accept).</summary>
    public static IEnumerable<(string Flag, string Value)> Flags(IReadOnlyList<string> argv)
    {
        for (var i = 1; i < argv.Count; i++)
        {
            var arg = argv[i];
            if (arg.Length < 2 || arg[0] != '-' || arg == "--")
            {
                continue;
            }
            var equals = arg.IndexOf('=');
            if (equals > 0)
            {
                yield return (arg[..equals], arg[(equals + 1)..]);
            }
            else if (i + 1 < argv.Count && !argv[i + 1].StartsWith('-'))
            {
                yield return (arg, argv[i + 1]);
            }
        }
    }

    private static void Add(List<UnitFileReference> found, string unit, string setting, string value)
    {
        var aboutTls = setting.Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries)
            .Any(part => TlsNameParts.Contains(part) || part.Contains("cert", StringComparison.OrdinalIgnoreCase) ||
                part.Contains("kubeconfig", StringComparison.OrdinalIgnoreCase));
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith('/') &&
                (aboutTls || TlsExtensions.Any(e => part.EndsWith(e, StringComparison.OrdinalIgnoreCase))))
            {
                found.Add(new UnitFileReference(unit, setting, part));
            }
        }
    }
}
