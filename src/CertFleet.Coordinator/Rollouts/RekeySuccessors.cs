using CertFleet.Coordinator.Signing;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// The CAs a re-key replaces (RekeyCa.authorities by CN; none named: every self-issued CA of the coordinator) and their
/// new CAs, made here (<see cref="NewAuthority.Create"/>) or taken from the operator (--new-ca-cert/--new-ca-key). Every
/// refusal is an <see cref="ArgumentException"/> naming the CA and what to give instead, raised before anything changes.
/// </summary>
internal static class RekeySuccessors
{
    public static TimeSpan Validity(RekeyCa rekey) => TimeSpan.FromDays(rekey.CaDays == 0 ? 3650 : rekey.CaDays);

    public static IReadOnlyList<CertificateAuthority> Selected(RekeyCa rekey, ClusterAuthorities authorities)
    {
        var all = authorities.All;
        if (all.Count == 0)
        {
            throw new ArgumentException("the coordinator holds no cluster CA (--ca-cert/--ca-key), so there is no CA to re-key");
        }
        if (rekey.Authorities.Count == 0)
        {
            return all.Where(a => a.Certificate.IsSelfIssued).ToList();
        }
        var errors = new List<string>();
        var selected = new List<CertificateAuthority>();
        foreach (var name in rekey.Authorities.Distinct(StringComparer.Ordinal))
        {
            var matching = all.Where(a => CommonName(a.Certificate) == name).ToList();
            if (matching.Count != 1)
            {
                errors.Add($"--rekey-ca {name}: {(matching.Count == 0 ? "no" : "more than one")} CA of the coordinator has the CN '{name}'; " +
                    $"give one of: {string.Join(", ", all.Select(a => CommonName(a.Certificate)))}");
                continue;
            }
            if (!matching[0].Certificate.IsSelfIssued)
            {
                errors.Add($"--rekey-ca {name}: an intermediate CA; re-key its root, or replace it where its parent's key is");
                continue;
            }
            selected.Add(matching[0]);
        }
        return errors.Count > 0 ? throw new ArgumentException(string.Join("; ", errors)) : selected;
    }

    /// <summary>The new CA for each of <paramref name="selected"/>, in order; the caller owns (and disposes) them.</summary>
    public static List<NewAuthority> Make(RekeyCa rekey, IReadOnlyList<CertificateAuthority> selected, TimeProvider time)
    {
        if (rekey.NewCaCertPem.Length > 0 != rekey.NewCaKeyPem.Length > 0)
        {
            throw new ArgumentException("--new-ca-cert and --new-ca-key go together: give both, or neither to have the coordinator make the new CA");
        }
        if (rekey.NewCaCertPem.Length > 0 && selected.Count != 1)
        {
            throw new ArgumentException($"--new-ca-cert replaces one CA, but {selected.Count} are re-keyed; name it with --rekey-ca CN");
        }
        if (rekey.StopAfter is not ("" or "trust" or "issue"))
        {
            throw new ArgumentException($"--stop-after '{rekey.StopAfter}': give trust or issue");
        }
        var made = new List<NewAuthority>();
        try
        {
            foreach (var authority in selected)
            {
                made.Add(rekey.NewCaCertPem.Length > 0 ? Given(rekey, authority) : NewAuthority.Create(authority.Certificate, new NewAuthorityRequest(
                    Validity(rekey),
                    rekey.Subject.Length > 0 ? rekey.Subject : null,
                    rekey.KeyType.Length > 0 ? AuthorityKeyType.Parse(rekey.KeyType) : null,
                    rekey.AllowWeaker), time));
            }
            return made;
        }
        catch (PkiException e)
        {
            made.ForEach(m => m.Dispose());
            throw new ArgumentException($"{e.Message}; nothing was changed", e);
        }
    }

    private static NewAuthority Given(RekeyCa rekey, CertificateAuthority old)
    {
        var certificate = Pem.Read(rekey.NewCaCertPem, "--new-ca-cert").FirstOrDefault(b => b.Label == "CERTIFICATE") is { } block
            ? CertificateInfo.Parse(block.Der, "--new-ca-cert")
            : throw new PkiException("--new-ca-cert: holds no PEM CERTIFICATE block");
        var keyBlock = Pem.Read(rekey.NewCaKeyPem, "--new-ca-key").FirstOrDefault(b => PrivateKey.IsPrivateKeyLabel(b.Label))
            ?? throw new PkiException("--new-ca-key: holds no unencrypted PEM PRIVATE KEY block");
        var key = PrivateKey.Parse(keyBlock, "--new-ca-key");
        try
        {
            return NewAuthority.FromGiven(old.Certificate, certificate, key, rekey.AllowWeaker);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The subject's CN, as operators name a CA (`--rekey-ca kubernetes-ca`); the whole subject when it has none.</summary>
    public static string CommonName(CertificateInfo certificate) =>
        new System.Security.Cryptography.X509Certificates.X500DistinguishedName(certificate.SubjectDer)
            .EnumerateRelativeDistinguishedNames()
            .Where(n => n.GetSingleElementType().Value == "2.5.4.3")
            .Select(n => n.GetSingleElementValue())
            .FirstOrDefault() ?? certificate.Subject;
}
