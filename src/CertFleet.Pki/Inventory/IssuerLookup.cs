using CertFleet.Pki.Certificates;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Finds the CA certificate on the node that issued a certificate: same name, and the signature verifies. When
/// several copies qualify (the old and the renewed CA certificate share a key), the one valid longest wins.
/// </summary>
internal sealed class IssuerLookup
{
    private readonly ILookup<string, FoundCertificate> _casBySubject;
    private readonly Dictionary<(string, string), bool> _verified = [];

    public IssuerLookup(IReadOnlyList<FoundCertificate> certificates)
    {
        var certificatesPerFile = certificates.GroupBy(c => c.File.HostPath).ToDictionary(g => g.Key, g => g.Count());
        _casBySubject = certificates
            .Where(c => c.Certificate.IsCa)
            // "where is the CA": its own file (ca.crt) rather than a bundle, a bundle rather than a kubeconfig's copy
            .OrderBy(c => c.Location.Field is null ? 0 : 1)
            .ThenBy(c => certificatesPerFile[c.File.HostPath] == 1 ? 0 : 1)
            .ThenByDescending(c => c.Certificate.NotAfter)
            .ToLookup(c => Convert.ToBase64String(c.Certificate.SubjectDer), StringComparer.Ordinal);
    }

    public FoundCertificate? Find(CertificateInfo certificate)
    {
        foreach (var candidate in _casBySubject[Convert.ToBase64String(certificate.IssuerDer)])
        {
            var pair = (certificate.Sha256Fingerprint, candidate.Certificate.Sha256Fingerprint);
            if (!_verified.TryGetValue(pair, out var issued))
            {
                issued = certificate.IsIssuedBy(candidate.Certificate);
                _verified[pair] = issued;
            }
            if (issued)
            {
                return candidate;
            }
        }
        return null;
    }
}
