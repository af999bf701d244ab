namespace CertFleet.Pki.Renewal;

/// <summary>How long renewed certificates are valid, and whether CA certificates are renewed too.</summary>
public sealed record RenewalOptions
{
    public static readonly TimeSpan DefaultLeafValidity = TimeSpan.FromDays(365);
    public static readonly TimeSpan DefaultAuthorityValidity = TimeSpan.FromDays(3650);

    public TimeSpan LeafValidity { get; init; } = DefaultLeafValidity;

    public TimeSpan AuthorityValidity { get; init; } = DefaultAuthorityValidity;

    /// <summary>`--ca`: renew CA certificates (same key) before the leaves and replace them everywhere.</summary>
    public bool RenewAuthorities { get; init; }

    /// <summary>
    /// CA keys from outside the root (`--ca-cert F --ca-key F`, a node's files copied to where the CA keys are): they
    /// sign as if they were on the node. Their certificates must be given to the scan too (<see cref="Inventory.TrustedAuthority"/>).
    /// </summary>
    public IReadOnlyList<Keys.PrivateKey> OutsideKeys { get; init; } = [];
}
