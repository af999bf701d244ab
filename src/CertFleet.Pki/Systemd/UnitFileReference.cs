namespace CertFleet.Pki.Systemd;

/// <summary>
/// A file a service uses: <paramref name="Setting"/> is the flag ("--tls-cert-file") or variable ("ETCD_CERT_FILE")
/// that names it, <paramref name="Path"/> the absolute path as on the node.
/// </summary>
public sealed record UnitFileReference(string Unit, string Setting, string Path);
