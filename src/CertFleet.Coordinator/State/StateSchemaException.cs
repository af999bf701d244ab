namespace CertFleet.Coordinator.State;

/// <summary>The state database cannot be used by this program as it is; nothing in it was changed. The message says what to do.</summary>
public sealed class StateSchemaException(string message) : Exception(message);
