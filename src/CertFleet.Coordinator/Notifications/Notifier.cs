using CertFleet.Coordinator.Hosting;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// Push, for fleets without Prometheus: every <see cref="CoordinatorOptions.NotifyInterval"/> the fleet's state is read
/// and compared (<see cref="FleetWatch"/>); what changed goes to the webhook, what holds to Alertmanager. Runs beside
/// everything else and only reads the stored state, so it can never hold a rollout up; off when neither is configured.
/// </summary>
internal sealed partial class Notifier(CoordinatorOptions options, FleetSnapshots snapshots, TimeProvider time, ILogger<Notifier> logger,
    Group.CoordinatorLease? lease = null)
    : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.NotifyWebhook is null && options.NotifyAlertmanager is null)
        {
            return;
        }
        using var http = new HttpClient { Timeout = RequestTimeout };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("certfleet-coordinator");
        var webhook = options.NotifyWebhook is { } url ? new WebhookSender(url, http, options.NotifyRetryDelay, time, logger) : null;
        var alertmanager = options.NotifyAlertmanager is { } am ? new AlertmanagerSender(am, http, options.NotifyInterval, logger) : null;
        var watch = new FleetWatch(options.Listen);
        var delivering = webhook?.RunAsync(stoppingToken) ?? Task.CompletedTask;
        using var timer = new PeriodicTimer(options.NotifyInterval, time);
        try
        {
            do
            {
                if (lease is { IsActive: false })
                {
                    continue; // the active coordinator of the group notifies: one event per fact, not one per coordinator
                }
                try
                {
                    var snapshot = snapshots.Take();
                    var (events, alerts) = watch.Observe(snapshot);
                    foreach (var notification in events)
                    {
                        webhook?.Enqueue(notification);
                    }
                    if (alertmanager is not null)
                    {
                        await alertmanager.PushAsync(alerts, snapshot.Time, stoppingToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // the next interval tries again; notifications must never take the coordinator down
                    Log.Failed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await delivering.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3100, Level = LogLevel.Error, Message = "Reading the fleet for notifications failed; trying again at the next interval")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
