using System.Text.Json.Serialization;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// One thing an operator is told about by the webhook (`notify-webhook`), POSTed as JSON: what happened
/// (<see cref="Kind"/>, one of <see cref="FleetEventKinds"/>), when, on which coordinator, and the fields that kind
/// has (the others are left out). <see cref="Summary"/> is one line a chat message can show as it is.
/// </summary>
public sealed record FleetEvent
{
    public required string Kind { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>The coordinator's --listen address, so several coordinators can post to one receiver.</summary>
    public required string Coordinator { get; init; }

    public required string Summary { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Node { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Path { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Subject { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? NotAfter { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Rollout { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }
}

/// <summary>The kinds of <see cref="FleetEvent"/>; receivers switch on these, so they never change.</summary>
public static class FleetEventKinds
{
    /// <summary>A certificate is within <see cref="FleetWatch.WarningWindow"/> of its notAfter (once per certificate).</summary>
    public const string CertificateDue = "certificate-due";
    public const string RolloutStarted = "rollout-started";
    public const string RolloutCompleted = "rollout-completed";
    public const string RolloutHalted = "rollout-halted";
    public const string RolloutAborted = "rollout-aborted";
    public const string RolloutRolledBack = "rollout-rolled-back";

    /// <summary>The signing policy refused a renewal (the audit trail's "refused").</summary>
    public const string SigningRefused = "signing-refused";

    /// <summary>A node's agent has been disconnected for <see cref="FleetWatch.AgentLostAfter"/>.</summary>
    public const string AgentLost = "agent-lost";

    /// <summary>A lost agent is connected again.</summary>
    public const string AgentBack = "agent-back";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(FleetEvent))]
[JsonSerializable(typeof(List<AlertmanagerAlert>))]
internal sealed partial class NotificationJson : JsonSerializerContext;
