using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// When the agent renews its own identity: with a third of its life left (10 days of 30), so a coordinator that is
/// down for a week still leaves time; a failed attempt is retried hourly until the identity expires.
/// </summary>
internal static class IdentityRenewal
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromHours(1);

    // timers take at most ~49 days; a longer wait is made of several, each ending in a fresh look at the clock
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    public static DateTimeOffset DueAt(X509Certificate2 identity)
    {
        var notBefore = new DateTimeOffset(identity.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(identity.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        return notAfter - ((notAfter - notBefore) / 3);
    }

    /// <summary>
    /// How long to wait before looking again: until due (at most a day), or the retry interval once overdue and an
    /// attempt failed; zero means renew now.
    /// </summary>
    public static TimeSpan Wait(X509Certificate2 identity, DateTimeOffset now, bool lastAttemptFailed)
    {
        var untilDue = DueAt(identity) - now;
        if (untilDue > TimeSpan.Zero)
        {
            return untilDue < LongestWait ? untilDue : LongestWait;
        }
        return lastAttemptFailed ? RetryInterval : TimeSpan.Zero;
    }
}
