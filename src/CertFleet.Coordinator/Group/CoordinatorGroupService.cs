namespace CertFleet.Coordinator.Group;

/// <summary>
/// The lease round (<see cref="CoordinatorLease.Round"/>) and this coordinator's "last seen" in the group, every
/// quarter of the lease duration, on the real clock whatever TimeProvider the rest uses: a lease is about processes
/// being alive, which a test's fake clock says nothing about.
/// </summary>
internal sealed partial class CoordinatorGroupService(CoordinatorLease lease, CoordinatorMembers members, ILogger<CoordinatorGroupService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(lease.Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                // off the timer's thread: a database that hangs must not stop the next round from noticing
                await Task.Run(() => lease.Round(), stoppingToken).ConfigureAwait(false);
                try
                {
                    members.Record();
                }
                catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
                {
                    Log.NotRecorded(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down: the lease runs out by itself and a standby takes over
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        lease.Resign();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1711, Level = LogLevel.Debug, Message = "could not record this coordinator as seen: {Error}")]
        public static partial void NotRecorded(ILogger logger, string error);
    }
}
