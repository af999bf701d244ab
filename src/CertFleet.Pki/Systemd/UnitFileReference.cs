namespace CertFleet.Pki.Systemd;

/// <summary>
/// A file a service uses: <paramref name="Setting"/> is the flag ("--tls-cert-file"), variable ("ETCD_CERT_FILE") or
/// component-config key ("authentication.x509.clientCAFile") that names it, <paramref name="Path"/> the absolute path
/// as on the node.
/// </summary>
public sealed record UnitFileReference(string Unit, string Setting, string Path)
{
    /// <summary>The component-config file the setting is in (node path); null for the unit's own flags and environment.</summary>
    public string? Source { get; init; }

    /// <summary>The setting as an operator finds it: "--tls-cert-file", or "tlsCertFile in /var/lib/kubelet/kubelet-config.yaml".</summary>
    public string Where => Source is null ? Setting : $"{Setting} in {Source}";

    /// <summary>Names a folder to look in (--cert-dir) rather than a file.</summary>
    public bool IsFolderSetting => Setting.Contains("dir", StringComparison.OrdinalIgnoreCase);
}
