using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Api;

/// <summary>
/// Fills admin.proto's deprecated text fields (Rollout.state_text, RolloutStep.kind_text and state_text,
/// PlannedStep.kind_text), where a `certfleet` of the release before the state enums reads states and kinds, so an
/// operator whose CLI is a release behind the coordinator still sees, scripts and waits on the same words (its
/// `renew --wait` would otherwise end every rollout "ended" with exit 1). The only code that touches those fields;
/// it goes with them, the release after this one.
/// </summary>
internal static class LegacyRolloutText
{
    /// <summary>Fills what <paramref name="answer"/> holds of rollouts and plans (in place: the text only repeats the enum); anything else as it is.</summary>
    public static T Fill<T>(T answer)
    {
#pragma warning disable CS0612 // deprecated on purpose: filled here for the release before, read nowhere
        switch (answer)
        {
            case Rollout rollout:
                rollout.StateText = rollout.State.ToText();
                foreach (var step in rollout.Steps)
                {
                    step.KindText = step.Kind.ToText();
                    step.StateText = step.State.ToText();
                }
                break;
            case ListRolloutsResponse list:
                foreach (var rollout in list.Rollouts)
                {
                    Fill(rollout);
                }
                break;
            case RolloutPlan plan:
                foreach (var step in plan.Steps)
                {
                    step.KindText = step.Kind.ToText();
                }
                break;
        }
#pragma warning restore CS0612
        return answer;
    }
}
