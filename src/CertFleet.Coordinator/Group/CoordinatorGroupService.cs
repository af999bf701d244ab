namespace CertFleet.Coordinator.Group;

/// <summary>
/// The lease round (<see cref="CoordinatorLease.Round"/>) and this coordinator's "last seen" in the group, every
/// quarter of the lease duration, on a thread of its own and the real clock. A thread of its own: in a batch of 2,000
/// steps on PostgreSQL every pool thread may be blocked in a database call, and a renewal queued behind them came
/// after the lease's expiry, so the active coordinator stepped down in the middle of its own rollout (the fleet bench
/// on PostgreSQL, docs/PERFORMANCE.md). The real clock: a lease is about processes being alive, which a test's fake
/// TimeProvider says nothing about.
/// </summary>
internal sealed partial class CoordinatorGroupService(CoordinatorLease lease, CoordinatorMembers members, ILogger<CoordinatorGroupService> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Thread? _thread;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "certfleet-lease" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
        lease.Resign();
        return Task.CompletedTask;
    }

    public void Dispose() => _stopping.Dispose();

    private void Loop()
    {
        // a round that took long (a slow database) is followed by the next at once, not a period later
        var next = Environment.TickCount64;
        while (true)
        {
            next += (long)lease.Period.TotalMilliseconds;
            var wait = Math.Max(0, next - Environment.TickCount64);
            if (_stopping.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(wait)))
            {
                return;
            }
            next = Math.Max(next, Environment.TickCount64 - (long)lease.Period.TotalMilliseconds);
            lease.Round();
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 1711, Level = LogLevel.Debug, Message = "could not record this coordinator as seen: {Error}")]
        public static partial void NotRecorded(ILogger logger, string error);
    }
}
