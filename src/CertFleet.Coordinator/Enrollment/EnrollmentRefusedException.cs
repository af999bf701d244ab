namespace CertFleet.Coordinator.Enrollment;

/// <summary>An enrollment was refused; the message is the reason the agent prints for its operator.</summary>
internal sealed class EnrollmentRefusedException(string reason) : Exception(reason);
