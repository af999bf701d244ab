using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Audit;

/// <summary>Some records of the trail, oldest first; <paramref name="More"/> when later ones matched too.</summary>
internal sealed record AuditPage(IReadOnlyList<AuditEvent> Events, bool More);
