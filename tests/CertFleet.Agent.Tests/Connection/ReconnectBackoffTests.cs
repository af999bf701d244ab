using CertFleet.Agent.Connection;

namespace CertFleet.Agent.Tests.Connection;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Delay_SuccessiveAttempts_StartNearOneSecondDoubleAndStopAtSixty()
    {
        var random = new Random(7);

        var delays = Enumerable.Range(0, 12).Select(attempt => ReconnectBackoff.Delay(attempt, random).TotalSeconds).ToList();

        Assert.InRange(delays[0], 0.8, 1.2);
        Assert.InRange(delays[1], 1.6, 2.4);
        Assert.InRange(delays[5], 25.6, 38.4);
        Assert.All(delays.Skip(6), d => Assert.InRange(d, 48, 60));
        Assert.InRange(ReconnectBackoff.Delay(1000, random).TotalSeconds, 48, 60);
    }
}
