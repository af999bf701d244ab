using CertFleet.Agent.Gates;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>What restarting one unit came to: the gate's verdict in words.</summary>
internal sealed record RestartOutcome(bool Ok, string Message, string ProbeOutput);

/// <summary>
/// Restart a unit, then hold the gate: used by restart steps and by rollbacks. The one place the restart command runs,
/// so the one place that refuses what is outside <see cref="RestartScope"/>.
/// </summary>
internal sealed partial class UnitRestart(ServiceRestarter restarter, HealthGate gate, ILogger<UnitRestart> logger)
{
    public async Task<RestartOutcome> RunAsync(string unit, RestartScope scope, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (scope.RefusalOf(unit) is { } refusal)
        {
            Log.Refused(logger, unit, refusal);
            return new RestartOutcome(false, refusal, "");
        }
        var restart = await restarter.RestartAsync(unit, out var command, cancellationToken);
        Log.Restarted(logger, unit, command, restart.ExitCode);
        if (!restart.Succeeded)
        {
            return new RestartOutcome(false, $"restarting {unit} failed: {restart.Describe(command)}", "");
        }
        var result = await gate.WaitAsync(unit, timeout, cancellationToken);
        Log.GateResult(logger, unit, result.Healthy, result.Output);
        return result.Healthy
            ? new RestartOutcome(true, $"{unit} restarted and healthy", result.Output)
            : new RestartOutcome(false, $"{unit} restarted, but its gate failed: {FirstLine(result.Output)}", result.Output);
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? text : text[..end] + " (see probe output)";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Restarted {Unit} with `{Command}`: exit {ExitCode}")]
        public static partial void Restarted(ILogger logger, string unit, string command, int? exitCode);

        [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Gate for {Unit}: healthy={Healthy}; {Output}")]
        public static partial void GateResult(ILogger logger, string unit, bool healthy, string output);

        [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Refused to restart {Unit}: {Reason}")]
        public static partial void Refused(ILogger logger, string unit, string reason);
    }
}
