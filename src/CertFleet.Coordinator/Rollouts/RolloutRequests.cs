using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>The defaults and checks of a <see cref="RolloutRequest"/>, in one place for the planner and the runner.</summary>
internal static class RolloutRequests
{
    /// <summary>Neither --all nor --expiring-within: what `certfleet check-expiration` warns about.</summary>
    public static readonly TimeSpan DefaultExpiringWithin = TimeSpan.FromDays(30);

    public static TimeSpan LeafValidity(this RolloutRequest request) =>
        TimeSpan.FromDays(request.LeafDays == 0 ? 365 : request.LeafDays);

    public static TimeSpan AuthorityValidity(this RolloutRequest request) =>
        TimeSpan.FromDays(request.AuthorityDays == 0 ? 3650 : request.AuthorityDays);

    public static TimeSpan? ExpiringWithin(this RolloutRequest request) =>
        request.All ? null
        : request.ExpiringWithinSeconds > 0 ? TimeSpan.FromSeconds(request.ExpiringWithinSeconds)
        : DefaultExpiringWithin;

    /// <summary>Throws <see cref="ArgumentException"/> listing every bad field at once.</summary>
    public static void Validate(RolloutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<string>();
        if (request.All && request.ExpiringWithinSeconds != 0)
        {
            errors.Add("give either --all or --expiring-within, not both");
        }
        if (request.ExpiringWithinSeconds < 0)
        {
            errors.Add($"--expiring-within must be positive, not {request.ExpiringWithinSeconds} s");
        }
        if (request.BatchSize < 0)
        {
            errors.Add($"--batch must be at least 1 (or 0 for 10 % of the workers), not {request.BatchSize}");
        }
        if (request.LeafDays is < 0 or > 3650)
        {
            errors.Add($"leaf validity must be 1 to 3650 days (0 for 365), not {request.LeafDays}");
        }
        if (request.AuthorityDays is < 0 or > 36500)
        {
            errors.Add($"CA validity must be 1 to 36500 days (0 for 3650), not {request.AuthorityDays}");
        }
        if (request.ExcludeNodes.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("--exclude-node needs a node name (see `certfleet status`)");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(request));
        }
    }
}
