using System.Text.Json.Serialization;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// An alert the coordinator keeps firing in Alertmanager while its condition holds: labels (alertname first, the same
/// names as the shipped Prometheus rules where there is one), annotations, and since when. <see cref="Key"/> tells two
/// alerts apart as Alertmanager does, by their labels.
/// </summary>
internal sealed record FleetAlert(SortedDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations, DateTimeOffset StartsAt)
{
    /// <summary>For a condition that is an event (a refusal), when it ends by itself; null while the condition holds.</summary>
    public DateTimeOffset? EndsAt { get; init; }

    public string Key => string.Join('\u001f', Labels.Select(l => $"{l.Key}={l.Value}"));
}

/// <summary>An alert as Alertmanager's v2 API takes it (POST /api/v2/alerts).</summary>
internal sealed record AlertmanagerAlert(
    IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt, DateTimeOffset EndsAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? GeneratorURL);
