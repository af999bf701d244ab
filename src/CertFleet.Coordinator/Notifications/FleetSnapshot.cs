using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Notifications;

/// <summary>A certificate a node reported, as much as notifications need of it.</summary>
internal sealed record WatchedCertificate(string Path, string Subject, string CommonName, DateTimeOffset NotAfter, string Fingerprint, bool IsCa);

internal sealed record WatchedNode(string Name, bool Connected, IReadOnlyList<WatchedCertificate> Certificates);

/// <summary>The fleet at one moment, as <see cref="FleetWatch"/> compares it with the moment before.</summary>
internal sealed record FleetSnapshot(
    DateTimeOffset Time, IReadOnlyList<WatchedNode> Nodes, IReadOnlyList<Rollout> Rollouts, IReadOnlyList<AuditEvent> NewRefusals);
