using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>A CA certificate and its private key, the pair that signs renewals.</summary>
public sealed record CertificateAuthority(CertificateInfo Certificate, PrivateKey Key);
