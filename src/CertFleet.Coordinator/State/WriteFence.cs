using System.Data.Common;
using CertFleet.Coordinator.State.Engines;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The fencing token every write carries. Unrequired (tests, `migrate-state`) nothing is checked; a coordinator
/// requires it before it serves anything, so until it holds the lease every write is refused, and while it holds it
/// every write transaction first reads the lease row with the token this coordinator took it with. A coordinator that
/// took over since has written a higher token there, and the write fails. On PostgreSQL the write first takes a shared
/// advisory lock that a takeover takes exclusively (<see cref="Engines.StateEngine.HoldOffTakeover"/>): a takeover
/// waits for every write in flight and commits before any later one reads the row, while the holder's renewals (a
/// plain UPDATE of the expiry) never wait. (Locking the row itself FOR SHARE queued renewals behind a batch's writes
/// until the lease expired under its own holder; FOR KEY SHARE cost PostgreSQL a multixact per locker.)
/// </summary>
internal sealed class WriteFence
{
    private Term? _term;
    private volatile bool _required;

    /// <summary>The lease as this coordinator took it: who and with which token.</summary>
    public sealed record Term(string Holder, long Token);

    /// <summary>Raised (once per term) when a write found the lease in other hands: the coordinator steps down at once.</summary>
    public event Action<Term>? Lost;

    public Term? Current => Volatile.Read(ref _term);

    public void Require() => _required = true;

    public void Hold(Term term) => Volatile.Write(ref _term, term);

    public void Release() => Volatile.Write(ref _term, null);

    public void Check(DbConnection connection, StateEngine engine)
    {
        if (!_required)
        {
            return;
        }
        var term = Current ?? throw new LeaseLostException("this coordinator is a standby of its group (it does not hold the lease) "
            + "and writes nothing; the active coordinator does");
        engine.HoldOffTakeover(connection);
        var held = connection.Scalar("SELECT fence FROM coordinator_lease WHERE name = 'active' AND holder = @holder AND fence = @fence",
            ("@holder", term.Holder), ("@fence", term.Token));
        if (held is null)
        {
            if (Interlocked.CompareExchange(ref _term, null, term) == term)
            {
                Lost?.Invoke(term);
            }
            throw new LeaseLostException($"another coordinator took the group's lease from {term.Holder} (fencing token {term.Token}); "
                + "nothing was written, and this coordinator steps down to standby");
        }
    }
}
