using CertFleet.Agent.Options;

namespace CertFleet.Agent.Gates;

/// <summary>Restarts a unit: `systemctl restart UNIT`, or --restart-command with {unit} replaced.</summary>
internal sealed class ServiceRestarter(AgentOptions options)
{
    public const string DefaultCommand = "systemctl restart {unit}";

    private static readonly TimeSpan MinimumLimit = TimeSpan.FromMinutes(2);

    public Task<CommandOutcome> RestartAsync(string unit, out string command, CancellationToken cancellationToken)
    {
        command = ShellCommand.ForUnit(options.RestartCommand ?? DefaultCommand, unit);
        var limit = options.GateTimeout > MinimumLimit ? options.GateTimeout : MinimumLimit;
        return ShellCommand.RunAsync(command, limit, cancellationToken);
    }
}
