namespace CertFleet.Coordinator.State;

/// <summary>
/// A write was refused, with nothing written, because this coordinator does not hold its group's lease: it is a
/// standby, or another coordinator took the lease while this one was paused or cut off. Callers stop what they were
/// doing for the fleet; the coordinator steps down (<see cref="Group.CoordinatorLease"/>).
/// </summary>
public sealed class LeaseLostException(string message) : Exception(message);
