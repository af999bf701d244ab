namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// A cluster CA the coordinator signs with: a certificate file and its key (e.g. ca and front-proxy-ca), and for
/// an encrypted key the file holding its passphrase (a systemd credential resolves to one under $CREDENTIALS_DIRECTORY).
/// The key is a file, or a `pkcs11:` URI naming a key inside a token (an HSM), whose PIN is in <see cref="PinFile"/>.
/// </summary>
public sealed record ClusterAuthorityFiles(string CertificatePath, string KeyPath, string? PassphraseFile = null, string? PinFile = null)
{
    /// <summary>The key is in a PKCS#11 token, named by a `pkcs11:` URI.</summary>
    public bool KeyIsInToken => CertFleet.Pki.Keys.Pkcs11KeyUri.IsUri(KeyPath);
}

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

    /// <summary>How long a restart step waits for its gate before it fails.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
