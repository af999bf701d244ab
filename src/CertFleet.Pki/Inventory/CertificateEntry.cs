using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// One certificate found on a node, where it is stored, the key it pairs with, the CA that issued it and the
/// units that use it. A bundle yields one entry per certificate; a certificate embedded in a kubeconfig yields
/// an entry whose <see cref="Path"/> is the kubeconfig.
/// </summary>
public sealed record CertificateEntry
{
    /// <summary>The file that holds it, as on the node (symlinks resolved).</summary>
    public string Path => File.Path;

    /// <summary>The file as it was read, so an edit can start from (and check) that text.</summary>
    public required ScannedFile File { get; init; }

    public required CertificateInfo Certificate { get; init; }

    /// <summary>Where inside <see cref="Path"/> the certificate's PEM block sits.</summary>
    public required PemLocation Location { get; init; }

    /// <summary>The kubeconfig user whose client-certificate-data this is, else null.</summary>
    public string? KubeconfigUser => Location.KubeconfigUser;

    public string? KeyPath { get; init; }

    /// <summary>True or false when a key was found for it, null when none was.</summary>
    public bool? KeyMatches { get; init; }

    /// <summary>The key itself when it matches; owned by the <see cref="NodeInventory"/>.</summary>
    public PrivateKey? Key { get; init; }

    /// <summary>The CA certificate on this node (or a <see cref="TrustedAuthority"/> given from outside) that issued it (itself for a self-signed CA), else null.</summary>
    public CertificateInfo? IssuerCertificate { get; init; }

    /// <summary>Where that CA certificate was found (a file in preference to a kubeconfig; for one from outside, its <see cref="TrustedAuthority.Source"/>).</summary>
    public string? IssuerPath { get; init; }

    public IReadOnlyList<string> UsedBy { get; init; } = [];

    public RenewalOwner Owner { get; init; } = RenewalOwner.CertFleet;

    /// <summary>Why it has that owner, in the operator's words, when it is not obvious (the kubelet's rotation, say).</summary>
    public string? OwnerNote { get; init; }

    /// <summary>
    /// The kubelet's kubelet-client-current.pem (or -server-) symlink that leads to this file, when CertFleet renews
    /// it: the renewal is written as a new dated file and the link moved, as the kubelet itself does. Else null.
    /// </summary>
    public string? RotationLink { get; init; }

    public bool IsCa => Certificate.IsCa;

    /// <summary>A CA of the cluster: CA:TRUE and not something the kubelet made for itself.</summary>
    public bool IsAuthority => Certificate.IsCa && Owner == RenewalOwner.CertFleet;

    /// <summary>Issued by itself: same name and its own key verifies its signature. Same name alone is not enough:
    /// cfssl runbooks give the apiserver certificate the CA's very subject.</summary>
    public bool IsSelfSigned { get; init; }

    /// <summary>The file holds other certificates too (a CA bundle).</summary>
    public bool IsInBundle { get; init; }

    /// <summary>"path" or "path (user)" for tables and messages.</summary>
    public string DisplayName => Location switch
    {
        { KubeconfigUser: { } user } => $"{Path} (user {user})",
        { KubeconfigCluster: { } cluster } => $"{Path} (CA of cluster {cluster})",
        _ => Path,
    };
}

/// <summary>Who renews a certificate: CertFleet, or something else that must be left alone.</summary>
public enum RenewalOwner
{
    CertFleet,

    /// <summary>kubelet-client-*.pem: the kubelet rotates it through the API server (--rotate-certificates).</summary>
    KubeletRotation,

    /// <summary>
    /// The serving certificate the kubelet made for itself (kubelet.crt: self-signed, or client-go's leaf and throwaway
    /// CA). The kubelet never renews it; CertFleet renews it self-signed with its own key.
    /// </summary>
    KubeletSelfSigned,

    /// <summary>Any other self-signed leaf certificate: no CA to renew it with.</summary>
    SelfSigned,

    /// <summary>A kubelet-client-*.pem the kubelet rotated away from: no link or setting leads to it, nothing uses it.</summary>
    KubeletRotationHistory,
}

/// <summary>
/// Where a PEM block lives: a file's text, or the base64-decoded text of a kubeconfig *-data field.
/// </summary>
public sealed record PemLocation(PemBlock Block, KubeconfigField? Field)
{
    public string? KubeconfigUser => Field is { IsClientCertificate: true } f ? f.EntryName : null;

    public string? KubeconfigCluster => Field is { IsClientCertificate: false } f ? f.EntryName : null;
}
