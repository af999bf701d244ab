using CertFleet.Coordinator.Fleet;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>A bootstrap token as handed to the operator: the secret itself is shown once and stored only as a hash.</summary>
internal sealed record EnrollmentToken(string Secret, string? Node, NodeRole Role, DateTimeOffset ExpiresAt);
