namespace CertFleet.Protocol.V1;

/// <summary>
/// The one place rollout and step states and step kinds turn into the words operators read and scripts parse
/// ("halted", "rolled-back", "renew-ca"), and back: what the CLI prints, what the coordinator stores in its text
/// columns and labels its metrics with, and the text the coordinator still fills for CLIs of the release before the
/// enums. <c>Unspecified</c> is "" both ways (a field nobody set); any other text is not a state and throws.
/// </summary>
public static class RolloutText
{
    public static string ToText(this RolloutState state) => state switch
    {
        RolloutState.Unspecified => "",
        RolloutState.Running => "running",
        RolloutState.Halted => "halted",
        RolloutState.Completed => "completed",
        RolloutState.Aborted => "aborted",
        RolloutState.RolledBack => "rolled-back",
        _ => throw Unknown(state),
    };

    public static string ToText(this StepState state) => state switch
    {
        StepState.Unspecified => "",
        StepState.Pending => "pending",
        StepState.Running => "running",
        StepState.Succeeded => "succeeded",
        StepState.Failed => "failed",
        StepState.RolledBack => "rolled-back",
        StepState.Skipped => "skipped",
        _ => throw Unknown(state),
    };

    public static string ToText(this StepKind kind) => kind switch
    {
        StepKind.Unspecified => "",
        StepKind.RenewCa => "renew-ca",
        StepKind.Install => "install",
        StepKind.Restart => "restart",
        StepKind.Rollback => "rollback",
        StepKind.NewCa => "new-ca",
        StepKind.Trust => "trust",
        StepKind.Pause => "pause",
        StepKind.SwitchCa => "switch-ca",
        StepKind.SwitchSigning => "switch-signing",
        StepKind.Retire => "retire",
        StepKind.RetireCa => "retire-ca",
        StepKind.Gate => "gate",
        _ => throw Unknown(kind),
    };

    public static RolloutState ParseRolloutState(string text) => Parse<RolloutState>(text, ToText);

    public static StepState ParseStepState(string text) => Parse<StepState>(text, ToText);

    public static StepKind ParseStepKind(string text) => Parse<StepKind>(text, ToText);

    private static T Parse<T>(string text, Func<T, string> toText) where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(toText(value), text, StringComparison.Ordinal))
            {
                return value;
            }
        }
        throw new ArgumentException($"'{text}' is not a {typeof(T).Name} this release knows (a newer one wrote it?)", nameof(text));
    }

    private static ArgumentOutOfRangeException Unknown<T>(T value) where T : struct, Enum =>
        new(nameof(value), value, $"{typeof(T).Name} {Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)} has no text; add it to RolloutText");
}
