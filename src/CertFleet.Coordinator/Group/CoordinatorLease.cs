using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.State;

namespace CertFleet.Coordinator.Group;

/// <summary>
/// Which coordinator of a group is active: the one holding the lease row in the shared database. A row with an expiry,
/// not a PostgreSQL advisory lock on a held session: a paused (SIGSTOP) or partitioned coordinator keeps its TCP
/// session, and so a session lock, for as long as the kernel keeps the connection, while a lease ends at its expiry by
/// the database's clock whatever the holder's state. Each change of hands raises the fencing token, which every
/// write then carries (<see cref="WriteFence"/>), so a coordinator that wakes up after losing the lease writes nothing.
/// <para>
/// The active coordinator renews every quarter of <see cref="CoordinatorOptions.LeaseDuration"/>; a standby tries to
/// take the lease as often, and does once it has expired, so it takes over within a quarter of the duration after the
/// expiry. A coordinator also stops counting itself active when its own monotonic clock says its last renewal is a
/// lease duration old (it may have been paused), before it learns anything from the database.
/// </para>
/// <para>
/// On SQLite the group is one coordinator: the same code makes it active at start, so there is one way to run.
/// </para>
/// </summary>
internal sealed partial class CoordinatorLease : IDisposable
{
    private const string Name = "active";

    private readonly StateDatabase _database;
    private readonly TimeSpan _duration;
    private readonly ILogger<CoordinatorLease> _logger;
    private readonly Lock _gate = new();
    private CancellationTokenSource _term = new();
    private long _renewedAt;
    private string? _activeUrl;

    public CoordinatorLease(StateDatabase database, string url, TimeSpan duration, ILogger<CoordinatorLease> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        Url = url;
        _duration = duration;
        _logger = logger;
        _term.Cancel();
        database.Fence.Require();
        database.Fence.Lost += _ => StepDown("a write found the lease in another coordinator's hands");
    }

    /// <summary>This coordinator's URL: who holds the lease, as agents and the CLI reach it.</summary>
    public string Url { get; }

    public TimeSpan Duration => _duration;

    /// <summary>How often the lease is renewed, or tried for by a standby.</summary>
    public TimeSpan Period => _duration / 4;

    /// <summary>Raised after this coordinator became active (it holds the lease); the fleet's work starts or resumes.</summary>
    public event Action? BecameActive;

    /// <summary>Raised after this coordinator stopped being active; its term's token is cancelled first.</summary>
    public event Action? SteppedDown;

    public bool IsActive => _database.Fence.Current is not null && !_term.IsCancellationRequested;

    /// <summary>The active coordinator's URL as last read from the database (this one's when active), or null.</summary>
    public string? ActiveUrl => IsActive ? Url : Volatile.Read(ref _activeUrl);

    /// <summary>Cancelled when this coordinator stops being active: the work of one term runs under it.</summary>
    public CancellationToken Term
    {
        get
        {
            lock (_gate)
            {
                return _term.Token;
            }
        }
    }

    /// <summary>
    /// One round: renews the lease when active, else takes it when it is free, expired or (<paramref name="atStart"/>)
    /// held under this coordinator's own URL by an earlier run of it (killed: its lease would otherwise block the
    /// restart until it expires; were that run still alive, its fencing token is older and it can write nothing).
    /// Never throws for the database being away: that is a round without the lease.
    /// </summary>
    public void Round(bool atStart = false)
    {
        if (IsActive && Elapsed() >= _duration)
        {
            // paused, or the database too slow to answer for a whole lease: another may hold it by now
            StepDown("its last renewal is older than the lease");
        }
        try
        {
            if (_database.Fence.Current is { } term && IsActive)
            {
                var started = Environment.TickCount64;
                if (!Renew(term))
                {
                    StepDown("another coordinator holds the lease");
                }
                else
                {
                    Volatile.Write(ref _renewedAt, started);
                }
                return;
            }
            var startedTake = Environment.TickCount64;
            if (TryTake(atStart) is { } taken)
            {
                Volatile.Write(ref _renewedAt, startedTake);
                BeginTerm(taken);
            }
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException or IOException)
        {
            Log.DatabaseAway(_logger, _database.Path, e.Message);
        }
    }

    /// <summary>
    /// At a clean stop: ends the lease now (when this coordinator holds it), so a standby takes over at its next round
    /// instead of after the expiry. Best effort: a database that does not answer leaves the lease to run out.
    /// </summary>
    public void Resign()
    {
        if (_database.Fence.Current is not { } term)
        {
            return;
        }
        StepDown("it is stopping");
        try
        {
            using var connection = _database.Open();
            using var transaction = _database.Engine.BeginWrite(connection);
            var now = _database.Engine.Now(connection);
            connection.Execute("UPDATE coordinator_lease SET expires_at = @now WHERE name = @name AND holder = @holder AND fence = @fence",
                ("@now", now), ("@name", Name), ("@holder", term.Holder), ("@fence", term.Token));
            transaction.Commit();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException or IOException)
        {
            Log.DatabaseAway(_logger, _database.Path, e.Message);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _term.Cancel();
            _term.Dispose();
        }
    }

    private bool Renew(WriteFence.Term term)
    {
        using var connection = _database.Open();
        using var transaction = _database.Engine.BeginWrite(connection);
        var now = _database.Engine.Now(connection);
        var renewed = connection.Execute("UPDATE coordinator_lease SET expires_at = @expires WHERE name = @name AND holder = @holder AND fence = @fence",
            ("@expires", now + _duration), ("@name", Name), ("@holder", term.Holder), ("@fence", term.Token));
        transaction.Commit();
        return renewed == 1;
    }

    /// <summary>The lease's new term when this coordinator took it, else null (and the holder's URL is remembered).</summary>
    private WriteFence.Term? TryTake(bool atStart)
    {
        using var connection = _database.Open();
        using var transaction = _database.Engine.BeginWrite(connection);
        var now = _database.Engine.Now(connection);
        // a quick look first: a standby polling a held lease must not hold every write of the active one off
        var holder = connection.Read("SELECT holder, expires_at FROM coordinator_lease WHERE name = @name",
            row => (Holder: row.GetString(0), Expires: row.GetTime(1)), ("@name", Name)).SingleOrDefault();
        if (HeldByAnother(holder.Holder, holder.Expires))
        {
            return null;
        }
        _database.Engine.HoldOffWriters(connection, _duration);
        var current = connection.Read($"SELECT holder, fence, expires_at FROM coordinator_lease WHERE name = @name {_database.Engine.LockForUpdate}",
            row => (Holder: row.GetString(0), Fence: row.GetLong(1), Expires: row.GetTime(2)), ("@name", Name)).SingleOrDefault();
        if (HeldByAnother(current.Holder, current.Expires))
        {
            return null;
        }
        var fence = current.Holder is null ? 1 : current.Fence + 1;
        bool HeldByAnother(string? holder, DateTimeOffset expires)
        {
            if (holder is null || expires <= now || (atStart && holder == Url))
            {
                return false;
            }
            Volatile.Write(ref _activeUrl, holder);
            return true;
        }
        var written = connection.Execute("""
            INSERT INTO coordinator_lease (name, holder, fence, acquired_at, expires_at) VALUES (@name, @holder, @fence, @now, @expires)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, fence = excluded.fence, acquired_at = excluded.acquired_at,
                expires_at = excluded.expires_at
            WHERE coordinator_lease.fence = @previous
            """,
            ("@name", Name), ("@holder", Url), ("@fence", fence), ("@now", now), ("@expires", now + _duration), ("@previous", current.Fence));
        transaction.Commit();
        if (written != 1)
        {
            return null; // another coordinator took it between the read and the write (PostgreSQL: a first row both inserted)
        }
        if (current.Holder is not null && current.Holder != Url)
        {
            Log.TookOver(_logger, Url, current.Holder, fence);
        }
        return new WriteFence.Term(Url, fence);
    }

    private void BeginTerm(WriteFence.Term term)
    {
        lock (_gate)
        {
            _term.Dispose();
            _term = new CancellationTokenSource();
        }
        _database.Fence.Hold(term);
        Volatile.Write(ref _activeUrl, Url);
        Log.Active(_logger, Url, term.Token, _database.Path);
        BecameActive?.Invoke();
    }

    private void StepDown(string why)
    {
        lock (_gate)
        {
            if (_term.IsCancellationRequested)
            {
                return;
            }
            _database.Fence.Release();
            _term.Cancel();
        }
        Volatile.Write(ref _activeUrl, null);
        Log.SteppedDown(_logger, Url, why);
        SteppedDown?.Invoke();
    }

    private TimeSpan Elapsed() => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _renewedAt));

    private static partial class Log
    {
        [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "{Url} is the active coordinator (lease fencing token {Fence}, database {Database})")]
        public static partial void Active(ILogger logger, string url, long fence, string database);

        [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "{Url} took over the lease from {Previous}, whose lease had expired (fencing token {Fence})")]
        public static partial void TookOver(ILogger logger, string url, string previous, long fence);

        [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "{Url} stepped down to standby: {Why}; it writes nothing from now on")]
        public static partial void SteppedDown(ILogger logger, string url, string why);

        [LoggerMessage(EventId = 1704, Level = LogLevel.Warning, Message = "the state database {Database} did not answer the lease round: {Error}")]
        public static partial void DatabaseAway(ILogger logger, string database, string error);
    }
}
