using CertFleet.Coordinator.Hosting;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// --auto-renew-within: once a minute, when a renewable certificate in the fleet expires within the threshold,
/// no rollout is unfinished and now is inside the --window (when given), starts a rollout by itself.
/// </summary>
internal sealed partial class AutoRenewal(
    CoordinatorOptions options,
    RolloutPlanner planner,
    RolloutStore store,
    IRolloutAdmin admin,
    TimeProvider time,
    ILogger<AutoRenewal> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    /// <summary>One check; the rollout it started, or null.</summary>
    public async Task<Rollout?> CheckAsync(CancellationToken cancellationToken)
    {
        if (options.AutoRenewWithin is not { } within)
        {
            return null;
        }
        if (options.Window is { } window && !window.Contains(time.GetUtcNow()))
        {
            return null;
        }
        if (store.FindUnfinished() is not null)
        {
            return null;
        }
        var request = new RolloutRequest { ExpiringWithinSeconds = (long)within.TotalSeconds };
        // from the last reports: asking every agent each minute would be a needless load on a large fleet
        var planned = await planner.PlanAsync(request, refresh: false, cancellationToken).ConfigureAwait(false);
        if (planned.Plan.Certificates.Count == 0)
        {
            return null;
        }
        try
        {
            var rollout = await admin.StartAsync(request, automatic: true, cancellationToken).ConfigureAwait(false);
            Log.Started(logger, rollout.Id, planned.Plan.Certificates.Count, within);
            return rollout;
        }
        catch (InvalidOperationException e)
        {
            // another rollout won the race, or the fresh reports show nothing left to renew
            Log.NotStarted(logger, e.Message);
            return null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.AutoRenewWithin is null)
        {
            return;
        }
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            do
            {
                try
                {
                    await CheckAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.CheckFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3040, Level = LogLevel.Warning, Message = "Automatic renewal started rollout {Rollout}: {Certificates} certificates expire within {Within}")]
        public static partial void Started(ILogger logger, string rollout, int certificates, TimeSpan within);

        [LoggerMessage(EventId = 3041, Level = LogLevel.Information, Message = "Automatic renewal did not start a rollout: {Reason}")]
        public static partial void NotStarted(ILogger logger, string reason);

        [LoggerMessage(EventId = 3042, Level = LogLevel.Error, Message = "Automatic renewal check failed")]
        public static partial void CheckFailed(ILogger logger, Exception exception);
    }
}
