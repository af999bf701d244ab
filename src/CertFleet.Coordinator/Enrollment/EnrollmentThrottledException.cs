namespace CertFleet.Coordinator.Enrollment;

/// <summary>Enroll refused before any work because the caller's address used up its failures (gRPC ResourceExhausted).</summary>
internal sealed class EnrollmentThrottledException(string message) : Exception(message);
