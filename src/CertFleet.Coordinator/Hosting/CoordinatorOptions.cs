using CertFleet.Pki.Authorities;

namespace CertFleet.Coordinator.Hosting;

/// <summary>A weekly window such as "Sat 02:00-04:00" (UTC) in which automatic rollouts may start.</summary>
public sealed record RenewalWindow(DayOfWeek Day, TimeOnly Start, TimeOnly End);

/// <summary>The coordinator's settings, from its command line (validated at start, every error listed at once).</summary>
public sealed record CoordinatorOptions
{
    /// <summary>HOST:PORT the gRPC server listens on (HTTPS, HTTP/2).</summary>
    public required string Listen { get; init; }

    public required string StateDirectory { get; init; }

    public IReadOnlyList<ClusterAuthorityFiles> ClusterAuthorities { get; init; } = [];

    public string? MetricsListen { get; init; }

    /// <summary>Start a rollout by itself when a certificate expires within this; null: off.</summary>
    public TimeSpan? AutoRenewWithin { get; init; }

    public RenewalWindow? Window { get; init; }

    /// <summary>Where a JSON POST goes for each fleet event (notify-webhook); null: none.</summary>
    public Uri? NotifyWebhook { get; init; }

    /// <summary>An Alertmanager (notify-alertmanager) the fleet's alerts are pushed to, by its v2 API; null: none.</summary>
    public Uri? NotifyAlertmanager { get; init; }

    /// <summary>How often the fleet is read for notifications and alerts are pushed again.</summary>
    public TimeSpan NotifyInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A webhook POST that failed is tried again after this, then twice as long each time.</summary>
    public TimeSpan NotifyRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A PostgreSQL database (postgresql://USER@HOST:PORT/DB) shared by a coordinator group; null: SQLite in the state dir.
    /// </summary>
    public string? Database { get; init; }

    /// <summary>The file holding the database's password (a systemd credential resolves to one); null: none (trust or peer auth).</summary>
    public string? DatabasePasswordFile { get; init; }

    /// <summary>
    /// How long the active coordinator's lease lasts without a renewal (renewed every quarter of it): a standby takes
    /// over within about this after the active one stops.
    /// </summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a restart step waits for its gate before it fails.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
