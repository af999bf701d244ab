namespace CertFleet.Pki.Systemd;

/// <summary>
/// Finds the certificate, key, CA and kubeconfig paths a service names: a flag or variable whose value (or a
/// comma-separated part of it) is an absolute path, and whose name or value says it is about TLS material. The
/// same name rule judges component-config keys (<see cref="IsAboutTls"/>), so a flag and its YAML twin agree.
/// </summary>
internal static class FileReferenceFinder
{
    private static readonly HashSet<string> TlsNameParts = new(StringComparer.OrdinalIgnoreCase)
    {
        "cert", "certs", "certificate", "certificates", "crt", "key", "keys", "ca", "cafile", "cacert", "capath",
        "certfile", "keyfile", "certdir", "tls", "ssl", "trusted", "kubeconfig", "pki", "x509", "pem", "authority",
    };

    private static readonly string[] TlsExtensions = [".crt", ".pem", ".key", ".kubeconfig", ".conf"];

    /// <summary>Settings whose value is a component-config file (YAML) holding more settings of the service.</summary>
    private static readonly HashSet<string> ComponentConfigSettings = new(StringComparer.Ordinal)
    {
        "--config", "-config", "--config-file", "-config-file", "ETCD_CONFIG_FILE",
    };

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

    /// <summary>True for a setting that names a component-config file (kubelet's --config, etcd's --config-file).</summary>
    public static bool IsComponentConfigSetting(string setting) => ComponentConfigSettings.Contains(setting);

    /// <summary>
    /// Whether a setting's name says it is about certificates, keys, CAs or kubeconfigs: a part of it, split at '-',
    /// '_', '.' and camelCase humps ("tlsCertFile", "clientCAFile", "trusted-ca-file"), is such a word.
    /// </summary>
    public static bool IsAboutTls(string setting) =>
        NameParts(setting).Any(part => TlsNameParts.Contains(part) || part.Contains("cert", StringComparison.OrdinalIgnoreCase) ||
            part.Contains("kubeconfig", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether a setting names a CA to trust or sign with ("--client-ca-file", "trusted-ca-file", "clientCAFile",
    /// "--etcd-cafile", "--kubelet-certificate-authority", "--cluster-signing-cert-file").</summary>
    public static bool IsAboutCa(string setting)
    {
        var parts = NameParts(setting).Select(p => p.ToLowerInvariant()).ToList();
        return parts.Any(p => p is "ca" or "cafile" or "cacert" or "capath" or "trusted" or "authority")
            || (parts.Contains("signing") && parts.Contains("cert"));
    }

    /// <summary>Whether a path's extension says it holds certificates, keys or a kubeconfig.</summary>
    public static bool HasTlsExtension(string path) =>
        TlsExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> NameParts(string setting)
    {
        foreach (var part in setting.Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries))
        {
            var start = 0;
            for (var i = 1; i < part.Length; i++)
            {
                // a hump starts at an upper-case letter after a lower-case one, or before the last of a run ("CAFile")
                var hump = char.IsUpper(part[i]) && (char.IsLower(part[i - 1]) || (i + 1 < part.Length && char.IsLower(part[i + 1])));
                if (hump)
                {
                    yield return part[start..i];
                    start = i;
                }
            }
            yield return part[start..];
        }
    }

    private static void Add(List<UnitFileReference> found, string unit, string setting, string value)
    {
        var aboutTls = IsAboutTls(setting) || IsComponentConfigSetting(setting);
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith('/') && (aboutTls || HasTlsExtension(part)))
            {
                found.Add(new UnitFileReference(unit, setting, part));
            }
        }
    }
}
