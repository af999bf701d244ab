namespace CertFleet.Agent.Connection;

/// <summary>1 s doubling to 60 s, with ±20 % jitter so a fleet of agents does not reconnect in lockstep.</summary>
internal static class ReconnectBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan Max = TimeSpan.FromSeconds(60);

    public static TimeSpan Delay(int attempt, Random random)
    {
        var seconds = Math.Min(Max.TotalSeconds, First.TotalSeconds * Math.Pow(2, Math.Min(attempt, 16)));
        var jittered = seconds * (0.8 + (0.4 * random.NextDouble()));
        return TimeSpan.FromSeconds(Math.Min(Max.TotalSeconds, jittered));
    }
}
