using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Pki.Inventory;

/// <summary>An embedded *-data field of a kubeconfig and its decoded PEM text.</summary>
public sealed record KubeconfigField(ScannedFile File, Kubeconfig Kubeconfig, KubeconfigValue Value, string EntryName,
    bool IsClientCertificate, string DecodedText);
