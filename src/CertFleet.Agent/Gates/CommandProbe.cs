namespace CertFleet.Agent.Gates;

/// <summary>--health-command (exit 0 = healthy), or `systemctl is-active UNIT` for units without a built-in probe.</summary>
internal sealed class CommandProbe(string command) : IHealthProbe
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var outcome = await ShellCommand.RunAsync(command, Limit, cancellationToken);
        return new ProbeResult(outcome.Succeeded, outcome.Describe(command));
    }
}
