using CertFleet.Agent.Options;
using CertFleet.Agent.Steps;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>RestartRequest: restart the unit and gate on its health and served certificates, when it is a service that uses
/// what this rollout installed here (<see cref="RestartScope"/>). Always done again when sent again: a restart is
/// harmless to repeat and the gate must see the present, not a journaled past.</summary>
internal sealed partial class RestartHandler(AgentOptions options, UnitRestart restart, StepJournal journal, TimeProvider time, ILogger<RestartHandler> logger)
{
    public async Task<StepResult> HandleAsync(RestartRequest request, CancellationToken cancellationToken)
    {
        var timeout = request.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(request.TimeoutSeconds) : options.GateTimeout;
        Log.StepStart(logger, request.StepId, request.Unit, timeout.TotalSeconds);
        var outcome = await restart.RunAsync(request.Unit, RestartScope.OfRollout(journal, request.RolloutId), timeout, cancellationToken);
        var entry = new JournalEntry
        {
            StepId = request.StepId,
            RolloutId = request.RolloutId,
            Kind = "restart",
            Ok = outcome.Ok,
            Message = outcome.Message,
            Units = [request.Unit],
            ProbeOutput = outcome.ProbeOutput,
            FinishedAt = time.GetUtcNow(),
        };
        journal.Record(entry);
        Log.StepEnd(logger, request.StepId, outcome.Ok, outcome.Message);
        var result = entry.ToResult();
        result.UnitsToRestart.Clear();
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Restart step {StepId}: {Unit} (gate timeout {TimeoutSeconds} s)")]
        public static partial void StepStart(ILogger logger, string stepId, string unit, double timeoutSeconds);

        [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Restart step {StepId} finished, ok={Ok}: {Message}")]
        public static partial void StepEnd(ILogger logger, string stepId, bool ok, string message);
    }
}
