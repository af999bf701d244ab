namespace CertFleet.Coordinator.Audit;

/// <summary>
/// One thing that happened, as it is appended to the audit trail. Holds names, serials and reasons only: never a
/// private key, a token or a CSR.
/// </summary>
/// <param name="Actor">"admin", "agent:&lt;node&gt;" or "coordinator" (automatic work)</param>
internal sealed record AuditRecord(string Kind, string Actor)
{
    public string Node { get; init; } = "";

    public string Path { get; init; } = "";

    public string Subject { get; init; } = "";

    public string Serial { get; init; } = "";

    public DateTimeOffset? NotAfter { get; init; }

    public string PreviousSerial { get; init; } = "";

    public string Reason { get; init; } = "";

    public string RolloutId { get; init; } = "";

    public string Detail { get; init; } = "";
}
