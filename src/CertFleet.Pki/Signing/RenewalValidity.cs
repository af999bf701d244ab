using CertFleet.Pki.Certificates;

namespace CertFleet.Pki.Signing;

/// <summary>When a renewal ends: the one rule the issuer writes and the plans (local and fleet) show.</summary>
public static class RenewalValidity
{
    /// <summary>
    /// The notAfter of the renewal of <paramref name="previous"/> made at <paramref name="now"/>: now + validity for
    /// a leaf; for a CA the later of that and its current notAfter, because renewing a CA is about making it last
    /// (a 100-year cfssl CA renewed with --ca-days 3650 keeps its 100 years), never about ending it sooner.
    /// </summary>
    public static DateTimeOffset NotAfter(CertificateInfo previous, DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(previous);
        var requested = now + validity;
        return previous.IsCa && previous.NotAfter > requested ? previous.NotAfter : requested;
    }
}
