using CertFleet.Pki.Certificates;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// A CA certificate given from outside the node's files (`--ca-cert` when a node's files are copied to the management
/// host): an issuer the scan may find for certificates whose CA is not among the node's own. <see cref="Source"/> is
/// where it came from, as the operator named it (a host path, not a path on the node).
/// </summary>
public sealed record TrustedAuthority(CertificateInfo Certificate, string Source);
