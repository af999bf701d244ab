namespace CertFleet.Pki.PemEncoding;

/// <summary>
/// One PEM block: its label ("CERTIFICATE", "EC PRIVATE KEY", ...) and decoded DER bytes. Start is the offset of
/// "-----BEGIN", End the offset just after the closing "-----END ...-----" (exclusive), so text[Start..End] is the
/// whole block and a bundle can be rewritten in place.
/// </summary>
public sealed record PemBlock(string Label, byte[] Der, int Start, int End)
{
    /// <summary>
    /// The RFC 1421 header lines before the base64 ("Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-256-CBC,IV"), as
    /// OpenSSL writes a traditionally encrypted key; empty for everything else.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
