using CertFleet.Pki.Files;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>Who owns a certificate, why (for the operator), and the kubelet's symlink a renewal must move.</summary>
internal sealed record Ownership(RenewalOwner Owner, string? Note = null, string? RotationLink = null);

/// <summary>
/// The kubelet's own files, from its unit and KubeletConfiguration: its --cert-dir, where it rotates
/// kubelet-client-*.pem and kubelet-server-*.pem behind their -current.pem symlinks (left to it only while its
/// rotation is on and the certificate still valid), and the serving certificate it made for itself (kubelet.crt,
/// unless tlsCertFile names one). Everything else in those folders is judged like any other file: a CA kept in
/// --cert-dir is a CA.
/// </summary>
internal sealed class KubeletFiles
{
    private const string DefaultCertificateDirectory = "/var/lib/kubelet/pki";

    private readonly NodeRoot _root;
    private readonly List<Kubelet> _kubelets = [];

    /// <summary>One kubelet; <paramref name="Unit"/> is null for the defaults assumed when the node has no kubelet unit.</summary>
    private sealed record Kubelet(string? Unit, string CertDirectoryHost, string CertDirectory, string? ServingFileHost,
        (bool Value, string Where)? RotateClient, (bool Value, string Where)? RotateServer);

    public KubeletFiles(NodeRoot root, IReadOnlyList<SystemdUnit> units)
    {
        _root = root;
        var kubeletUnits = units.Where(u => u.Program == "kubelet" || u.Name == "kubelet.service").ToList();
        if (kubeletUnits.Count == 0)
        {
            // no unit says otherwise (a node copied without its units): the kubelet's defaults
            Add(null, DefaultCertificateDirectory, null, null, null);
        }
        foreach (var unit in kubeletUnits)
        {
            Add(unit.Name, unit.GetSetting("--cert-dir") ?? DefaultCertificateDirectory, unit.GetSetting("--tls-cert-file"),
                unit.GetSwitch("--rotate-certificates"), unit.GetSwitch("--rotate-server-certificates"));
        }
    }

    /// <summary>
    /// The kubelet units whose own file this is: one in its --cert-dir named after it (kubelet.crt, kubelet.key,
    /// kubelet-client-*.pem). --cert-dir often holds the cluster's files too (/opt/kubernetes/ssl): those are not its.
    /// </summary>
    public IEnumerable<string> UnitsOwning(string hostPath) =>
        _kubelets.Where(k => Path.GetDirectoryName(hostPath) == k.CertDirectoryHost
                && Path.GetFileName(hostPath).StartsWith("kubelet", StringComparison.Ordinal))
            .Select(k => k.Unit).OfType<string>();

    /// <param name="selfMade">self-signed, or issued by a self-signed certificate in the same file, and a CA of nothing else</param>
    /// <param name="referenced">some unit or kubeconfig names this very file</param>
    public Ownership? OwnerOf(FoundCertificate found, bool selfMade, bool referenced, DateTimeOffset now)
    {
        if (found.Location.Field is not null)
        {
            return null;
        }
        var hostPath = found.File.HostPath;
        var name = Path.GetFileName(found.File.Path);
        foreach (var kubelet in _kubelets.Where(k => Path.GetDirectoryName(hostPath) == k.CertDirectoryHost))
        {
            foreach (var kind in new[] { "client", "server" })
            {
                if (name.StartsWith($"kubelet-{kind}-", StringComparison.Ordinal) && name.EndsWith(".pem", StringComparison.Ordinal))
                {
                    return Rotated(kubelet, kind, found, referenced, now);
                }
            }
        }
        if (selfMade && _kubelets.Any(k => k.ServingFileHost == hostPath))
        {
            return new Ownership(RenewalOwner.KubeletSelfSigned);
        }
        return null;
    }

    private Ownership Rotated(Kubelet kubelet, string kind, FoundCertificate found, bool referenced, DateTimeOffset now)
    {
        var link = NodePath.Combine(kubelet.CertDirectory, $"kubelet-{kind}-current.pem");
        var current = CurrentTarget(link);
        if (current != found.File.HostPath)
        {
            return referenced
                ? new Ownership(RenewalOwner.CertFleet)
                : new Ownership(RenewalOwner.KubeletRotationHistory,
                    current is null
                        ? $"a certificate the kubelet rotated earlier; no {link} points to it, nothing uses it"
                        : $"a certificate the kubelet rotated earlier; {link} points to {_root.ToNodePath(current)}, nothing uses this one");
        }
        var rotation = kind == "client" ? kubelet.RotateClient : kubelet.RotateServer;
        var setting = kind == "client" ? "rotateCertificates / --rotate-certificates" : "serverTLSBootstrap / --rotate-server-certificates";
        if (rotation is { Value: true } on && found.Certificate.NotAfter > now)
        {
            return new Ownership(RenewalOwner.KubeletRotation, $"the kubelet rotates this certificate itself ({on.Where}); left alone");
        }
        var why = rotation is { Value: true } set
            ? $"its rotation is on ({set.Where}) but the certificate has expired, so the kubelet can no longer rotate it"
            : rotation is { } off
                ? $"the kubelet does not rotate it ({off.Where})"
                : $"the kubelet does not rotate it ({setting} is not set{(kubelet.Unit is null ? "" : $" in {kubelet.Unit}")})";
        return new Ownership(RenewalOwner.CertFleet, why, link);
    }

    private string? CurrentTarget(string link)
    {
        try
        {
            return _root.IsSymlink(link) ? _root.Resolve(link) : null;
        }
        catch (PkiException)
        {
            return null;
        }
    }

    private void Add(string? unit, string certDirectory, string? servingFile, (bool, string)? rotateClient, (bool, string)? rotateServer)
    {
        string certDirectoryHost;
        try
        {
            certDirectory = NodePath.Normalize(certDirectory);
            certDirectoryHost = _root.Resolve(certDirectory);
        }
        catch (PkiException)
        {
            return; // a folder that cannot be resolved holds nothing we read
        }
        // The file the kubelet serves with: tlsCertFile when given, else the pair it makes in --cert-dir; with serving
        // certificates bootstrapped it serves kubelet-server-current.pem, judged above as a rotated file.
        var serving = servingFile ?? (rotateServer is { Item1: true } ? null : NodePath.Combine(certDirectory, "kubelet.crt"));
        string? servingHost = null;
        try
        {
            servingHost = serving is null ? null : _root.Resolve(serving);
        }
        catch (PkiException)
        {
            // an unresolvable serving file is one the kubelet cannot have made here either
        }
        _kubelets.Add(new Kubelet(unit, certDirectoryHost, certDirectory, servingHost, rotateClient, rotateServer));
    }
}
