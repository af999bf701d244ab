using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Hosting;
using CertFleet.Pki.Text;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// --auto-renew-within: once a minute, when a renewable certificate in the fleet expires within the threshold,
/// no rollout is unfinished and now is inside the --window (when given), starts a rollout by itself. A certificate
/// an automatic rollout renewed, and that completed, is not renewed automatically again for <see cref="HoldFor"/>
/// when its node reports it again: a node that keeps reporting its old certificate (a hostile agent, or a backup put
/// back) would otherwise start a rollout, restarts and a signature every minute. The hold is audited once; an
/// operator's `certfleet renew` is never held.
/// </summary>
internal sealed partial class AutoRenewal(
    CoordinatorOptions options,
    RolloutPlanner planner,
    RolloutStore store,
    IRolloutAdmin admin,
    AuditLog audit,
    TimeProvider time,
    ILogger<AutoRenewal> logger,
    Group.CoordinatorLease? lease = null) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    /// <summary>Long enough that a loop costs one rollout a day, short enough that a real problem is retried.</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromHours(24);

    // the holds already audited, so a node reporting the same certificate every minute is one record, not 1,440 a day
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);

    /// <summary>One check; the rollout it started, or null.</summary>
    public async Task<Rollout?> CheckAsync(CancellationToken cancellationToken)
    {
        // a standby starts nothing: the active coordinator of the group renews automatically
        if (options.AutoRenewWithin is not { } within || lease is { IsActive: false })
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
        if (AllRenewedRecently(planned))
        {
            return null;
        }
        try
        {
            var rollout = await admin.StartAsync(request, automatic: true, cancellationToken).ConfigureAwait(false);
            Log.Started(logger, rollout.Id, planned.Plan.Certificates.Count, DurationText.Format(within));
            return rollout;
        }
        catch (InvalidOperationException e)
        {
            // another rollout won the race, or the fresh reports show nothing left to renew
            Log.NotStarted(logger, e.Message);
            return null;
        }
    }

    /// <summary>Whether every certificate due is one a completed automatic rollout renewed within <see cref="HoldFor"/> (audited once).</summary>
    private bool AllRenewedRecently(PlannedRollout planned)
    {
        var since = time.GetUtcNow() - HoldFor;
        var renewedBy = new Dictionary<RolloutTarget, string>();
        foreach (var rollout in store.List().Where(r => r is { Automatic: true, State: RolloutState.Completed }
            && r.FinishedAt?.ToDateTimeOffset() >= since))
        {
            foreach (var target in store.Targets(rollout.Id))
            {
                renewedBy.TryAdd(target, rollout.Id);
            }
        }
        if (planned.Targets.Count == 0 || !planned.Targets.All(renewedBy.ContainsKey))
        {
            return false;
        }
        foreach (var target in planned.Targets)
        {
            var rolloutId = renewedBy[target];
            if (_announced.Add($"{rolloutId}/{target.Node}/{target.Fingerprint}"))
            {
                Log.Held(logger, target.Node, Sha256Text.FormatFingerprint(target.Fingerprint), rolloutId);
                audit.Append(new AuditRecord(AuditKinds.AutoRenewalHeld, "coordinator")
                {
                    Node = target.Node, RolloutId = rolloutId,
                    Reason = $"{target.Node} reports again the certificate {Sha256Text.FormatFingerprint(target.Fingerprint)} that automatic rollout {rolloutId} "
                        + $"renewed; not renewed automatically again before {HoldFor.TotalHours:0} h: check the node's files "
                        + "(`certfleet verify`), or renew it now with `certfleet renew`",
                });
            }
        }
        return true;
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
        public static partial void Started(ILogger logger, string rollout, int certificates, string within);

        [LoggerMessage(EventId = 3041, Level = LogLevel.Information, Message = "Automatic renewal did not start a rollout: {Reason}")]
        public static partial void NotStarted(ILogger logger, string reason);

        [LoggerMessage(EventId = 3043, Level = LogLevel.Warning, Message = "Automatic renewal held: {Node} reports again the certificate {Fingerprint} that rollout {Rollout} renewed")]
        public static partial void Held(ILogger logger, string node, string fingerprint, string rollout);

        [LoggerMessage(EventId = 3042, Level = LogLevel.Error, Message = "Automatic renewal check failed")]
        public static partial void CheckFailed(ILogger logger, Exception exception);
    }
}
