using System.Formats.Asn1;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>
/// Signs renewals under the policy that only ever renews an identity the holder already has: same subject, same
/// key, same names and usages (the rules of <see cref="RenewalRequest"/>). Anything else is refused with a
/// PkiException that says why.
/// </summary>
public sealed class CertificateIssuer(TimeProvider time)
{
    /// <summary>Backdating absorbs small clock differences between the coordinator and the nodes.</summary>
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Signs <paramref name="csrDer"/> as the renewal of <paramref name="previous"/>, which <paramref name="authority"/>
    /// issued: the request is read and judged by <see cref="RenewalRequest"/>'s rules, then signed.
    /// </summary>
    public CertificateInfo Renew(ReadOnlySpan<byte> csrDer, CertificateInfo previous, CertificateAuthority authority, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(authority);
        var context = Context(previous);
        CheckAuthority(authority, context);
        CheckValidity(validity, context);
        var issued = IssuedCertificate.Find(previous, [authority])
            ?? throw Refuse(context, $"the certificate was not issued by the CA '{authority.Certificate.Subject}' " +
                "(names, key identifiers or signature do not match); sign it with the CA that issued it");
        RenewalRequest request;
        try
        {
            request = RenewalRequest.Read(csrDer, issued);
        }
        catch (PkiException e)
        {
            throw Refuse(context, e.Message);
        }
        return Renew(request, validity);
    }

    /// <summary>
    /// Signs <paramref name="request"/>, already judged (its CSR and the certificate's issuer checked when it was
    /// made), with its CA: the certificate's own subject, key and extensions, a new serial and validity.
    /// </summary>
    public CertificateInfo Renew(RenewalRequest request, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(request);
        var previous = request.Certificate;
        var context = Context(previous);
        CheckAuthority(request.Authority, context);
        CheckValidity(validity, context);
        var extensions = WithAuthorityKeyIdentifier(previous.Extensions, request.Authority.Certificate.SubjectKeyIdentifier, addWhenMissing: true);
        return Reissue(previous, request.Authority, extensions, validity, context);
    }

    /// <summary>
    /// Signs <paramref name="request"/> (judged against the CA that issued the certificate) with <paramref name="successor"/>,
    /// the new CA of a re-key: the certificate's own subject, key and extensions, its issuer name and authority key
    /// identifier now the successor's. The request's proof of possession and the old CA's signature on the certificate
    /// are what make this a renewal of an identity the holder already has, under a new CA.
    /// </summary>
    public CertificateInfo RenewUnder(RenewalRequest request, CertificateAuthority successor, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(successor);
        var previous = request.Certificate;
        var context = $"re-issue of {previous.Subject} (serial {previous.SerialHex}) under the new CA {successor.Certificate.Subject}";
        CheckAuthority(successor, context);
        CheckValidity(validity, context);
        var extensions = WithAuthorityKeyIdentifier(previous.Extensions, successor.Certificate.SubjectKeyIdentifier, addWhenMissing: true);
        return Reissue(previous, successor, extensions, validity, context);
    }

    private static string Context(CertificateInfo previous) => $"renewal of {previous.Subject} (serial {previous.SerialHex})";

    /// <summary>
    /// Renews a self-signed CA certificate with its own key, keeping subject, SKI and every extension; it ends no
    /// sooner than it did (<see cref="RenewalValidity"/>).
    /// </summary>
    public CertificateInfo RenewAuthority(CertificateAuthority authority, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var certificate = authority.Certificate;
        var context = $"renewal of the CA {certificate.Subject} (serial {certificate.SerialHex})";
        CheckAuthority(authority, context);
        CheckValidity(validity, context);
        if (!certificate.IsSelfIssued)
        {
            throw Refuse(context, $"the certificate is issued by '{certificate.Issuer}', not by itself; only a " +
                "self-signed root CA can be renewed with its own key");
        }

        var keyId = certificate.SubjectKeyIdentifier ?? certificate.AuthorityKeyIdentifier;
        var extensions = WithAuthorityKeyIdentifier(certificate.Extensions, keyId, addWhenMissing: false);
        return Reissue(certificate, authority, extensions, validity, context);
    }

    /// <summary>
    /// Renews the serving certificate a kubelet made for itself, signed by its own key: subject, key, names and usages
    /// kept; the issuer becomes the subject and the authority key identifier the certificate's own (client-go's leaf
    /// named a throwaway CA whose key is gone, so its renewal can only be self-signed).
    /// </summary>
    public CertificateInfo RenewSelfSigned(CertificateInfo certificate, PrivateKey key, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(key);
        var context = $"self-signed renewal of {certificate.Subject} (serial {certificate.SerialHex})";
        CheckValidity(validity, context);
        if (!key.Matches(certificate))
        {
            throw Refuse(context, $"the key ({key.Description}) does not belong to the certificate; point to its own key");
        }
        var extensions = WithAuthorityKeyIdentifier(certificate.Extensions, certificate.SubjectKeyIdentifier, addWhenMissing: false);
        return Reissue(certificate, new CertificateAuthority(certificate, key), extensions, validity, context);
    }

    /// <summary>
    /// <paramref name="previous"/> signed again by <paramref name="authority"/> (for a self-signed CA: itself) with
    /// <paramref name="extensions"/>; the one place a renewal's serial, validity and signature algorithm are decided.
    /// </summary>
    private CertificateInfo Reissue(CertificateInfo previous, CertificateAuthority authority,
        IReadOnlyList<CertificateExtension> extensions, TimeSpan validity, string context)
    {
        var now = time.GetUtcNow();
        var template = new CertificateTemplate(
            SerialNumbers.NewSerial(previous.SerialNumber), authority.Certificate.SubjectDer, now - Backdate,
            RenewalValidity.NotAfter(previous, now, validity), previous.SubjectDer, previous.SubjectPublicKeyInfoDer, extensions,
            SignatureAlgorithm.ForRenewal(previous.SignatureAlgorithmDer, authority.Key.Algorithm));
        return template.Sign(authority.Key, context);
    }

    private static void CheckAuthority(CertificateAuthority authority, string context)
    {
        if (!authority.Certificate.IsCa)
        {
            throw Refuse(context, $"'{authority.Certificate.Subject}' is not a CA certificate (basicConstraints " +
                "CA:TRUE missing); point to the CA certificate");
        }
        if (!authority.Key.Matches(authority.Certificate))
        {
            throw Refuse(context, $"the CA key ({authority.Key.Description}) does not belong to the CA certificate " +
                $"'{authority.Certificate.Subject}'; point to the CA's own key file");
        }
    }

    private static void CheckValidity(TimeSpan validity, string context)
    {
        if (validity <= TimeSpan.Zero)
        {
            throw Refuse(context, $"the validity {validity} is not positive; give a number of days above zero");
        }
    }

    /// <summary>The extensions in order, with the AKI replaced by a keyid-only AKI naming <paramref name="keyId"/>.</summary>
    private static List<CertificateExtension> WithAuthorityKeyIdentifier(
        IReadOnlyList<CertificateExtension> extensions, byte[]? keyId, bool addWhenMissing)
    {
        var result = new List<CertificateExtension>(extensions.Count + 1);
        var replaced = false;
        foreach (var extension in extensions)
        {
            if (extension.Oid != X509Oids.AuthorityKeyIdentifier)
            {
                result.Add(extension);
            }
            else if (keyId is not null)
            {
                result.Add(CertificateExtension.Create(extension.Oid, extension.Critical, EncodeKeyIdentifier(keyId)));
                replaced = true;
            }
        }
        if (!replaced && addWhenMissing && keyId is not null)
        {
            result.Add(CertificateExtension.Create(X509Oids.AuthorityKeyIdentifier, false, EncodeKeyIdentifier(keyId)));
        }
        return result;
    }

    private static byte[] EncodeKeyIdentifier(byte[] keyId)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteOctetString(keyId, new Asn1Tag(TagClass.ContextSpecific, 0));
        }
        return writer.Encode();
    }

    private static PkiException Refuse(string context, string reason) => new($"{context}: refused: {reason}");
}
