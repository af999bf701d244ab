namespace CertFleet.Pki.Kubeconfigs;

/// <summary>An entry of <c>clusters:</c> with its server and CA fields (null when absent).</summary>
public sealed record KubeconfigCluster(
    string Name,
    string? Server,
    KubeconfigValue? CertificateAuthority,
    KubeconfigValue? CertificateAuthorityData);
