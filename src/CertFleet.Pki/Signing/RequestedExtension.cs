namespace CertFleet.Pki.Signing;

/// <summary>An extension a CSR asks for; Value is the extnValue octets.</summary>
public sealed record RequestedExtension(string Oid, bool Critical, byte[] Value);
