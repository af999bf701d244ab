namespace CertFleet.Agent.Gates;

/// <summary>One look at a unit's health, in words for the operator.</summary>
internal sealed record ProbeResult(bool Healthy, string Output);

/// <summary>A way to ask whether a unit is healthy; polled by <see cref="HealthGate"/>.</summary>
internal interface IHealthProbe
{
    Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken);
}
