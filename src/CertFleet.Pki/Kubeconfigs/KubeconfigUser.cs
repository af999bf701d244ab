namespace CertFleet.Pki.Kubeconfigs;

/// <summary>An entry of <c>users:</c> with the certificate fields it has (null when absent).</summary>
public sealed record KubeconfigUser(
    string Name,
    KubeconfigValue? ClientCertificate,
    KubeconfigValue? ClientCertificateData,
    KubeconfigValue? ClientKey,
    KubeconfigValue? ClientKeyData);
