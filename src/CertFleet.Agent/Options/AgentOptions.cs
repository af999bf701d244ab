namespace CertFleet.Agent.Options;

/// <summary>Everything the agent is told at start, from the command line and /etc/certfleet/agent.conf.</summary>
public sealed record AgentOptions
{
    public const string DefaultConfigFile = "/etc/certfleet/agent.conf";

    public static readonly TimeSpan DefaultReportInterval = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan DefaultGateTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest --report-interval and --gate-timeout: .NET's timers (PeriodicTimer, CancelAfter) take at most
    /// 2^32-2 ms, about 49.7 days, and throw beyond, which would stop the agent long after it started.
    /// </summary>
    public static readonly TimeSpan LongestTimer = TimeSpan.FromDays(49);

    /// <summary>The first coordinator of <see cref="Coordinators"/>; alone, the only one.</summary>
    public required Uri Coordinator { get; init; }

    /// <summary>
    /// Every coordinator of the group, in the order the agent tries them (--coordinator URL,URL...); when not set, only
    /// <see cref="Coordinator"/>.
    /// </summary>
    public IReadOnlyList<Uri> Coordinators
    {
        get => _coordinators ?? [Coordinator];
        init => _coordinators = value;
    }

    private readonly IReadOnlyList<Uri>? _coordinators;

    public required string Node { get; init; }

    /// <summary>The host folder that holds the node's file system (/ on a real node).</summary>
    public string Root { get; init; } = "/";

    /// <summary>Host folder for the agent's identity and step journal.</summary>
    public string StateDirectory { get; init; } = "/var/lib/certfleet-agent";

    /// <summary>Bootstrap token, needed only while the state folder holds no identity.</summary>
    public string? Token { get; init; }

    /// <summary>SHA-256 of the coordinator CA's SubjectPublicKeyInfo (32 bytes), given with the token.</summary>
    public byte[]? CaHash { get; init; }

    /// <summary>Shell command with {unit}; null: systemctl restart.</summary>
    public string? RestartCommand { get; init; }

    /// <summary>Shell command with {unit}; when set it replaces every built-in gate (exit 0 = healthy).</summary>
    public string? HealthCommand { get; init; }

    /// <summary>
    /// Run after a CA re-key edits a unit file or drop-in (its signing split). Null: `systemctl daemon-reload`, unless
    /// --restart-command is set: an operator who restarts services their own way reloads them their own way too.
    /// </summary>
    public string? DaemonReloadCommand { get; init; }

    public TimeSpan ReportInterval { get; init; } = DefaultReportInterval;

    public TimeSpan GateTimeout { get; init; } = DefaultGateTimeout;

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);
}
