using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>
/// Failed enrollments per peer address: a burst of <see cref="Burst"/>, then one per <see cref="Refill"/>. Enroll is
/// the one call open to anybody, and each refusal is an fsynced audit row: without this, a script writes thousands of
/// rows a minute. Successes cost nothing. IPv6 peers count per /64, which one host usually holds whole.
/// Identity renewals per node likewise: <see cref="RenewalBurst"/>, then one per <see cref="RenewalRefill"/> (the agent
/// renews once in 20 days; the burst leaves room for a renewal whose answer was lost).
/// </summary>
internal sealed class EnrollmentThrottle(TimeProvider time)
{
    public const int Burst = 5;
    public static readonly TimeSpan Refill = TimeSpan.FromSeconds(12);
    public const int RenewalBurst = 3;
    public static readonly TimeSpan RenewalRefill = TimeSpan.FromMinutes(20);

    // bounded: a sweep of expired entries when it grows past this
    private const int MaxPeers = 10_000;

    private readonly ConcurrentDictionary<string, Bucket> _peers = new();
    private readonly ConcurrentDictionary<string, Bucket> _renewals = new();

    /// <summary>False while <paramref name="peer"/> has used up its failures: refuse without any work.</summary>
    public bool MayTry(IPAddress? peer) => !_peers.TryGetValue(Key(peer), out var bucket) || bucket.Available(Now) >= 1;

    /// <summary>Takes one of <paramref name="node"/>'s identity renewals; false (nothing taken) when it has none left.</summary>
    public bool TryRenewal(string node)
    {
        var bucket = _renewals.GetOrAdd(node, _ => new Bucket(Now, RenewalBurst, RenewalRefill));
        if (bucket.Available(Now) < 1)
        {
            return false;
        }
        bucket.Take(Now);
        return true;
    }

    /// <summary>When <paramref name="peer"/> may try again.</summary>
    public TimeSpan RetryAfter(IPAddress? peer) =>
        _peers.TryGetValue(Key(peer), out var bucket) ? bucket.Until(Now) : TimeSpan.Zero;

    /// <summary>Counts a failure of <paramref name="peer"/>.</summary>
    public void Failed(IPAddress? peer)
    {
        if (_peers.Count >= MaxPeers)
        {
            foreach (var (key, stale) in _peers)
            {
                if (stale.Full(Now))
                {
                    _peers.TryRemove(key, out _);
                }
            }
        }
        _peers.GetOrAdd(Key(peer), _ => new Bucket(Now, Burst, Refill)).Take(Now);
    }

    private DateTimeOffset Now => time.GetUtcNow();

    private static string Key(IPAddress? peer)
    {
        if (peer is null)
        {
            return "unknown";
        }
        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }
        if (peer.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = peer.GetAddressBytes();
            return Convert.ToHexString(bytes, 0, 8) + "::/64";
        }
        return peer.ToString();
    }

    private sealed class Bucket(DateTimeOffset now, int burst, TimeSpan refill)
    {
        private readonly Lock _lock = new();
        private double _tokens = burst;
        private DateTimeOffset _at = now;

        public bool Full(DateTimeOffset now) => Available(now) >= burst;

        public double Available(DateTimeOffset now)
        {
            lock (_lock)
            {
                Advance(now);
                return _tokens;
            }
        }

        public TimeSpan Until(DateTimeOffset now)
        {
            lock (_lock)
            {
                Advance(now);
                return _tokens >= 1 ? TimeSpan.Zero : refill * (1 - _tokens);
            }
        }

        public void Take(DateTimeOffset now)
        {
            lock (_lock)
            {
                Advance(now);
                _tokens = Math.Max(0, _tokens - 1);
            }
        }

        private void Advance(DateTimeOffset now)
        {
            if (now > _at)
            {
                _tokens = Math.Min(burst, _tokens + ((now - _at) / refill));
                _at = now;
            }
        }
    }
}
