namespace CertFleet.Agent.Enrollment;

/// <summary>Enrollment cannot succeed by retrying (bad token, wrong CA hash): the agent stops with this message.</summary>
internal sealed class EnrollmentRejectedException(string message, Exception? inner = null) : Exception(message, inner);
