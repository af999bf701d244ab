using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>The words of states and kinds (CertFleet.Protocol's RolloutText): what the CLI prints and the state database holds.</summary>
public sealed class RolloutTextTests
{
    [Fact]
    public void ToText_EveryRolloutState_TheWordsOfTheReleaseBefore()
    {
        Assert.Equal(["", "running", "halted", "completed", "aborted", "rolled-back"], Enum.GetValues<RolloutState>().Select(s => s.ToText()));
    }

    [Fact]
    public void ToText_EveryStepState_TheWordsOfTheReleaseBefore()
    {
        Assert.Equal(["", "pending", "running", "succeeded", "failed", "rolled-back", "skipped"], Enum.GetValues<StepState>().Select(s => s.ToText()));
    }

    [Fact]
    public void ToText_EveryStepKind_TheWordsOfTheReleaseBeforeThenTheReKeys()
    {
        // the first five are stored in state databases of earlier releases: they never change
        Assert.Equal(["", "renew-ca", "install", "restart", "rollback", "new-ca", "trust", "pause", "switch-ca", "switch-signing", "retire", "retire-ca", "gate"],
            Enum.GetValues<StepKind>().Select(k => k.ToText()));
    }

    [Fact]
    public void Parse_EveryWord_BackToItsValue()
    {
        Assert.All(Enum.GetValues<RolloutState>(), s => Assert.Equal(s, RolloutText.ParseRolloutState(s.ToText())));
        Assert.All(Enum.GetValues<StepState>(), s => Assert.Equal(s, RolloutText.ParseStepState(s.ToText())));
        Assert.All(Enum.GetValues<StepKind>(), k => Assert.Equal(k, RolloutText.ParseStepKind(k.ToText())));
    }

    [Theory]
    [InlineData("paused")]
    [InlineData("Halted")] // the words are lower case, as stored: nothing else is one
    [InlineData("ROLLOUT_STATE_HALTED")]
    public void ParseRolloutState_NotAWord_ThrowsNamingIt(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => RolloutText.ParseRolloutState(text));

        Assert.StartsWith($"'{text}' is not a RolloutState this release knows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToText_ValueWithoutAWord_ThrowsNamingRolloutText()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ((StepKind)99).ToText());

        Assert.Contains("StepKind 99 has no text; add it to RolloutText", error.Message, StringComparison.Ordinal);
    }
}
