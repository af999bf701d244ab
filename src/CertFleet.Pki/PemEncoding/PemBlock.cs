namespace CertFleet.Pki.PemEncoding;

/// <summary>
/// One PEM block: its label ("CERTIFICATE", "EC PRIVATE KEY", ...) and decoded DER bytes. Start is the offset of
/// "-----BEGIN", End the offset just after the closing "-----END ...-----" (exclusive), so text[Start..End] is the
/// whole block and a bundle can be rewritten in place.
/// </summary>
public sealed record PemBlock(string Label, byte[] Der, int Start, int End);
