using System.Formats.Asn1;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>
/// A CSR to renew one certificate, read and judged once; the coordinator's policy and `renew --local` both make
/// one here, and <see cref="CertificateIssuer"/> signs it without checking again. The one rule set of what a renewal
/// may ask: the request parses and its signature verifies with the key it carries (proof of possession); that key is
/// the certificate's; the subject is the certificate's, byte for byte; and every extension it asks for is one the
/// certificate carries, unchanged (value and critical flag), once. Asking for none of them is fine: the renewal is
/// made from the certificate, never from the request, so it carries the certificate's own names and usages either
/// way (`openssl x509 -x509toreq` asks for none unless told to). Asking for anything else, CA:TRUE included, is
/// refused, because it would not be granted and the operator must not believe it was.
/// </summary>
public sealed class RenewalRequest
{
    private RenewalRequest(IssuedCertificate issued, CertificateRequestInfo request)
    {
        Issued = issued;
        Extensions = request.Extensions;
    }

    /// <summary>The certificate to renew, with the CA that issued it.</summary>
    public IssuedCertificate Issued { get; }

    public CertificateInfo Certificate => Issued.Certificate;

    public CertificateAuthority Authority => Issued.Authority;

    /// <summary>What the request asked for (all of it the certificate's own).</summary>
    public IReadOnlyList<RequestedExtension> Extensions { get; }

    /// <summary>
    /// <paramref name="csrDer"/> as the request to renew <paramref name="issued"/>; a <see cref="PkiException"/>
    /// whose message is the reason (for the audit trail and the operator) when the rules refuse it.
    /// </summary>
    public static RenewalRequest Read(ReadOnlySpan<byte> csrDer, IssuedCertificate issued)
    {
        ArgumentNullException.ThrowIfNull(issued);
        var certificate = issued.Certificate;
        var request = CertificateRequestInfo.Parse(csrDer, $"certificate request for {certificate.Subject}");
        if (!request.SignatureIsValid)
        {
            throw new PkiException("the request's signature does not verify (it was altered, or not signed by the key it carries); "
                + "make the request again on the node with the certificate's own key");
        }
        if (!SubjectPublicKey.AreSame(request.SubjectPublicKeyInfoDer, certificate.SubjectPublicKeyInfoDer))
        {
            throw new PkiException("the request carries a different public key than the certificate; renewal keeps the existing key, "
                + "make the request with the certificate's own key");
        }
        if (!request.SubjectDer.AsSpan().SequenceEqual(certificate.SubjectDer))
        {
            throw new PkiException($"the request asks for the subject '{DistinguishedName.Format(request.SubjectDer)}', not the "
                + $"certificate's '{certificate.Subject}'; a renewal keeps the subject");
        }
        if (RefusalOfExtensions(certificate, request.Extensions) is { } reason)
        {
            throw new PkiException(reason);
        }
        return new RenewalRequest(issued, request);
    }

    private static string? RefusalOfExtensions(CertificateInfo certificate, IReadOnlyList<RequestedExtension> requested)
    {
        foreach (var asked in requested.GroupBy(e => e.Oid, StringComparer.Ordinal))
        {
            var had = certificate.ExtensionsOf(asked.Key);
            var wanted = asked.ToList();
            if (wanted.Count == 1 && had.Count == 1 && had[0].Critical == wanted[0].Critical && had[0].Value.AsSpan().SequenceEqual(wanted[0].Value))
            {
                continue;
            }
            if (asked.Key == X509Oids.BasicConstraints && !certificate.IsCa && wanted.Any(AsksForCa))
            {
                return "the request asks for CA:TRUE but the certificate is not a CA; a renewal never grants the right to sign certificates";
            }
            var hadText = Describe(asked.Key, had.Select(e => new RequestedExtension(asked.Key, e.Critical, e.Value)).ToList());
            return $"the request's {X509Oids.NameOf(asked.Key)} ({Describe(asked.Key, wanted)}) differs from the certificate's ({hadText}); "
                + "a renewal keeps names and usages: ask for them unchanged, or for none and the renewal carries the certificate's own";
        }
        return null;
    }

    private static bool AsksForCa(RequestedExtension basicConstraints)
    {
        try
        {
            return CertificateInfo.ReadCaFlag(basicConstraints.Value);
        }
        catch (AsnContentException)
        {
            return false; // malformed: refused as a difference, below
        }
    }

    /// <summary>A request is hostile input: its part of a reason (audited, shown) stays short whatever it asked.</summary>
    private const int DescriptionChars = 400;

    private static string Describe(string oid, IReadOnlyList<RequestedExtension> extensions)
    {
        if (extensions.Count == 0)
        {
            return "none";
        }
        var text = string.Join("; ", extensions.Select(e =>
        {
            var critical = e.Critical ? "critical " : "";
            try
            {
                return critical + (oid == X509Oids.SubjectAlternativeName
                    ? string.Join(", ", GeneralNames.Format(e.Value))
                    : Convert.ToHexString(e.Value));
            }
            catch (AsnContentException)
            {
                return critical + Convert.ToHexString(e.Value);
            }
        }));
        return text.Length <= DescriptionChars ? text : $"{text[..DescriptionChars]}... ({text.Length} characters)";
    }
}
