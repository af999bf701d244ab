using CertFleet.Pki.Text;

namespace CertFleet.Pki.Tests.Text;

/// <summary>The one duration grammar of the three programs, once and thoroughly; the options' own tests only check they use it.</summary>
public sealed class DurationTextTests
{
    private const string Grammar = "write a whole number and a unit, s, m, h, d or w (90s, 15m, 12h, 30d, 2w), or several from the largest unit down (1h30m)";

    [Theory]
    [InlineData("45s", 45)]
    [InlineData("90m", 90 * 60)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("30d", 30 * 86400)]
    [InlineData("2w", 14 * 86400)]
    [InlineData("1s", 1)]
    [InlineData("05m", 5 * 60)] // leading zeros were always read
    [InlineData("0001h", 3600)]
    public void TryParse_EachUnit_IsThatManySeconds(string text, long seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out var problem), problem);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
        Assert.Equal("", problem);
    }

    [Theory]
    [InlineData("30D", 30 * 86400)] // the coordinator always took upper case units
    [InlineData("12H", 12 * 3600)]
    [InlineData("5M", 5 * 60)] // minutes, as it always was: there is no month unit
    [InlineData("45S", 45)]
    [InlineData("2W", 14 * 86400)]
    [InlineData("1H30m", 5400)]
    public void TryParse_UpperCaseUnit_SameAsLowerCase(string text, long seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out _));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("1h30m", 5400)]
    [InlineData("1d12h", 36 * 3600)]
    [InlineData("2w3d", 17 * 86400)]
    [InlineData("1w1d1h1m1s", 8 * 86400 + 3661)]
    [InlineData("1m30s", 90)]
    [InlineData("1h0m", 3600)]
    [InlineData("0h30m", 1800)]
    public void TryParse_PartsFromTheLargestUnitDown_AddUp(string text, long seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out var problem), problem);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData(" 30d", 30)]
    [InlineData("30d ", 30)]
    [InlineData("\t30d\n", 30)] // `$(cat file)` or a config line keeps what a shell would not
    public void TryParse_SpacesAround_AreIgnored(string text, int days)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out _));
        Assert.Equal(TimeSpan.FromDays(days), duration);
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("   ", "it is empty")]
    [InlineData(null, "it is empty")]
    [InlineData("0s", "it is zero; a duration is at least 1s")]
    [InlineData("0d", "it is zero; a duration is at least 1s")]
    [InlineData("0h0m", "it is zero; a duration is at least 1s")]
    [InlineData("-5d", "a duration is never negative")]
    [InlineData("+5d", "write it without a sign")]
    [InlineData("30", "30 has no unit (s, m, h, d or w)")]
    [InlineData("1h30", "30 has no unit (s, m, h, d or w)")]
    [InlineData("d", "'d' needs a number before it")]
    [InlineData("1hm", "'hm' is not a unit (s, m, h, d or w)")]
    [InlineData("30days", "'days' is not a unit (s, m, h, d or w)")]
    [InlineData("5min", "'min' is not a unit (s, m, h, d or w)")]
    [InlineData("1ms", "'ms' is not a unit (s, m, h, d or w)")]
    [InlineData("3mo", "'mo' is not a unit: months and years have no fixed length (write 30d or 365d)")]
    [InlineData("1y", "'y' is not a unit: months and years have no fixed length (write 30d or 365d)")]
    [InlineData("1Y", "'Y' is not a unit: months and years have no fixed length (write 30d or 365d)")]
    [InlineData("1.5h", "only whole numbers: write 1h30m or 90m, not 1.5h")]
    [InlineData("1,5h", "only whole numbers: write 1h30m or 90m, not 1.5h")]
    [InlineData("30 days", "it has a space in it; write the parts together (1h30m)")]
    [InlineData("1h 30m", "it has a space in it; write the parts together (1h30m)")]
    [InlineData("30 d", "it has a space in it; write the parts together (1h30m)")]
    [InlineData("30m1h", "units go from the largest to the smallest, each once (1h30m, not 30m1h)")]
    [InlineData("1h1h", "units go from the largest to the smallest, each once (1h30m, not 30m1h)")]
    [InlineData("1_000s", "'_' does not belong in a duration")]
    [InlineData("5m!", "'!' does not belong in a duration")]
    [InlineData("soon", "'s' needs a number before it")]
    [InlineData("PT5M", "'P' needs a number before it")] // ISO 8601 durations are not this grammar
    [InlineData("00:05:00", "':' does not belong in a duration")] // nor TimeSpan's own
    [InlineData("５m", "'５' does not belong in a duration")] // only ASCII digits: no surprise from other scripts
    public void TryParse_NotADuration_SaysWhatIsWrong(string? text, string expected)
    {
        Assert.False(DurationText.TryParse(text, out var duration, out var problem));
        Assert.Equal(expected, problem);
        Assert.Equal(TimeSpan.Zero, duration);
    }

    [Theory]
    [InlineData("10675199d2h48m5s", true)] // the longest TimeSpan, in whole seconds
    [InlineData("922337203685s", true)]
    [InlineData("10675199d2h48m6s", false)]
    [InlineData("922337203686s", false)]
    [InlineData("1525029w", false)]
    [InlineData("10675200d", false)]
    [InlineData("99999999999999999999s", false)] // more than a long holds
    [InlineData("99999999999999999999w1d", false)]
    public void TryParse_AtAndOverTheLongest_OnlyUpToIt(string text, bool accepted)
    {
        Assert.Equal(accepted, DurationText.TryParse(text, out var duration, out var problem));
        if (accepted)
        {
            Assert.Equal(DurationText.Longest, duration);
        }
        else
        {
            Assert.Equal("it is longer than the longest duration, 10675199d2h48m5s", problem);
        }
    }

    [Fact]
    public void TryParse_TooLongThenMalformed_NamesTheMalformedPart()
    {
        Assert.False(DurationText.TryParse("99999999999999999999d5x", out _, out var problem));

        Assert.Equal("'x' is not a unit (s, m, h, d or w)", problem);
    }

    [Theory]
    [InlineData("30d")] // --auto-renew-within, the coordinator's example
    [InlineData("100000d")] // the coordinator's old cap, still taken
    [InlineData("366d")] // the agent's old cap
    [InlineData("14d")] // README: renew --expiring-within 14d
    [InlineData("24h")] // README: audit --since 24h
    [InlineData("5m")] // agent.conf: report-interval
    [InlineData("60s")] // agent.conf: gate-timeout
    [InlineData("1h")] // token create --ttl default
    [InlineData("2w")] // plan --expiring-within took weeks
    public void TryParse_WhatWasAcceptedBefore_IsStillAccepted(string text)
    {
        Assert.True(DurationText.TryParse(text, out _, out var problem), problem);
    }

    [Fact]
    public void Error_AnyProblem_NamesTheOptionTheValueTheProblemAndTheGrammar()
    {
        DurationText.TryParse("30 days", out _, out var problem);

        Assert.Equal($"--expiring-within '30 days' is not a duration: it has a space in it; write the parts together (1h30m); {Grammar}",
            DurationText.Error("--expiring-within", "30 days", problem));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(45, "45s")]
    [InlineData(60, "1m")]
    [InlineData(90, "1m30s")]
    [InlineData(5400, "1h30m")]
    [InlineData(3600, "1h")]
    [InlineData(86400, "1d")]
    [InlineData(30 * 86400, "30d")]
    [InlineData(14 * 86400, "14d")] // never weeks: 30d reads better than 4w2d
    [InlineData(36 * 3600, "1d12h")]
    [InlineData(86400 + 1, "1d1s")]
    public void Format_WholeSeconds_LargestUnitsFirstWithoutZeroParts(long seconds, string expected)
    {
        Assert.Equal(expected, DurationText.Format(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Format_FractionOfASecond_IsLeftOut()
    {
        Assert.Equal("1m30s", DurationText.Format(TimeSpan.FromSeconds(90.75)));
        Assert.Equal("0s", DurationText.Format(TimeSpan.FromMilliseconds(999)));
        Assert.Equal("10675199d2h48m5s", DurationText.Format(TimeSpan.MaxValue));
    }

    [Fact]
    public void Format_Negative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DurationText.Format(TimeSpan.FromSeconds(-1)));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(59L)]
    [InlineData(61L)]
    [InlineData(3599L)]
    [InlineData(86399L)]
    [InlineData(7 * 86400L)]
    [InlineData(365 * 86400L + 3723)]
    [InlineData(922337203685L)]
    public void Format_ThenTryParse_SameDuration(long seconds)
    {
        var duration = TimeSpan.FromSeconds(seconds);

        Assert.True(DurationText.TryParse(DurationText.Format(duration), out var back, out var problem), problem);
        Assert.Equal(duration, back);
    }
}
