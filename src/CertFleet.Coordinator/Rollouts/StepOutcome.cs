namespace CertFleet.Coordinator.Rollouts;

/// <summary>How a step ended: the message an operator reads and, for a restart, what the health gate saw.</summary>
internal sealed record StepOutcome(bool Ok, string Message, string ProbeOutput = "");
