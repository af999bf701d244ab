using CertFleet.Pki.Authorities;
using CertFleet.Pki.Configuration;
using CertFleet.Pki.Text;

namespace CertFleet.Coordinator.Hosting;

/// <summary>The parsed command line: options when every check passed, otherwise every problem found.</summary>
internal sealed record CoordinatorCommandLine(CoordinatorOptions? Options, IReadOnlyList<string> Problems, bool HelpRequested)
{
    public const string Usage = """
        Usage: certfleet-coordinator --listen HOST:PORT --state-dir DIR [--ca-cert FILE --ca-key FILE]...
                                     [--ca-key-passphrase-credential NAME | --ca-key-passphrase-file F]...
                                     [--ca-key-pin-credential NAME | --ca-key-pin-file F]...
                                     [--metrics-listen HOST:PORT] [--auto-renew-within D [--window "Sat 02:00-04:00"]]
                                     [--notify-webhook URL] [--notify-alertmanager URL] [--config FILE]
                                     [--database postgresql://USER@HOST:PORT/DB
                                      [--database-password-credential NAME | --database-password-file F]
                                      [--lease-duration D]]
               certfleet-coordinator migrate-state --state-dir DIR --to postgresql://USER@HOST:PORT/DB
                                     [--database-password-credential NAME | --database-password-file F]

          --config FILE             `key: value` lines with these options' names (listen: HOST:PORT, one ca-cert and
                                    one ca-key line per CA); default /etc/certfleet/coordinator.conf when it exists.
                                    An option on the command line replaces the file's lines for it.

          --listen HOST:PORT        where agents and the CLI connect (HTTPS, HTTP/2, mTLS)
          --state-dir DIR           database, fleet CA and admin.conf (written on first start)
          --ca-cert F --ca-key F    a cluster CA to sign renewals with; repeat for each CA (ca, front-proxy-ca, ...)
          --ca-key-passphrase-credential NAME  the passphrase of an encrypted --ca-key, from the systemd credential
                                    $CREDENTIALS_DIRECTORY/NAME (LoadCredential=NAME:/path in the unit)
          --ca-key-passphrase-file F  the same from a file (mode 0600); give one per key file in order, or one for all
                                    (an encrypted PKCS#8 key, or OpenSSL 1.x's Proc-Type: 4,ENCRYPTED with AES or 3DES)
          --ca-key pkcs11:token=T;object=K  a CA key inside a PKCS#11 token (an HSM); it signs there and never leaves it.
                                    Add ?module-path=/usr/lib/.../module.so for a module p11-kit does not offer
          --ca-key-pin-credential NAME  the token's PIN from $CREDENTIALS_DIRECTORY/NAME (LoadCredential=NAME:/path)
          --ca-key-pin-file F       the same from a file (mode 0600); one per pkcs11: key in order, or one for all
          --metrics-listen HOST:PORT  Prometheus metrics over plain HTTP (GET /metrics)
          --auto-renew-within D     start a rollout by itself when a certificate expires within D (30d, 2w, 1d12h;
                                    README "Durations and hashes")
          --window "DAY HH:MM-HH:MM"  only start automatic rollouts inside this weekly window (UTC)
          --notify-webhook URL      POST a JSON event there when a certificate enters its last 28 days, a rollout
                                    starts, completes or halts, a renewal is refused or an agent is lost (retried)
          --notify-alertmanager URL  push the fleet's alerts to this Alertmanager (its v2 API), resolved when they end
          --database URL            keep the state in this PostgreSQL database instead of <state-dir>/state.db; every
                                    coordinator started on the same database joins its group: one is active, the
                                    others stand by, serve reads and take over when it stops (README "Two coordinators
                                    on PostgreSQL"). Each needs the same fleet CA files (fleet-ca.crt, fleet-ca.key) and
                                    cluster CA files; only certificates go into the database, never a key
          --database-password-credential NAME  the database password from $CREDENTIALS_DIRECTORY/NAME
          --database-password-file F  the same from a file (mode 0600)
          --lease-duration D        how long the active coordinator's lease lasts unrenewed (default 10s, renewed every
                                    quarter of it); a standby takes over within about this after the active one stops

        migrate-state copies a stopped coordinator's SQLite state (<state-dir>/state.db) into an empty PostgreSQL
        database, then checks that every table holds the same rows; start the coordinator with --database URL after it.
        state.db is kept; <state-dir>/state.db.moved stops a coordinator started on it without --database.
        """;

    private static readonly HashSet<string> ValueOptions =
        ["--listen", "--state-dir", "--ca-cert", "--ca-key", "--metrics-listen", "--auto-renew-within", "--window",
            "--ca-key-passphrase-credential", "--ca-key-passphrase-file", "--ca-key-pin-credential", "--ca-key-pin-file",
            "--notify-webhook", "--notify-alertmanager", "--database", "--database-password-credential", "--database-password-file",
            "--lease-duration"];

    private static readonly HashSet<string> RepeatableOptions =
        ["--ca-cert", "--ca-key", "--ca-key-passphrase-credential", "--ca-key-passphrase-file", "--ca-key-pin-credential", "--ca-key-pin-file"];

    public const string DefaultConfigFile = "/etc/certfleet/coordinator.conf";

    public static CoordinatorCommandLine Parse(IReadOnlyList<string> args) => Parse(args, Environment.GetEnvironmentVariable);

    /// <param name="environment">where $CREDENTIALS_DIRECTORY comes from (the process environment outside tests)</param>
    /// <param name="defaultConfigFile">read when it exists and no --config is given</param>
    public static CoordinatorCommandLine Parse(IReadOnlyList<string> args, Func<string, string?> environment, string defaultConfigFile = DefaultConfigFile)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var problems = new List<string>();
        var arguments = OptionArguments.Read(args, name => name == "--config" || ValueOptions.Contains(name),
            argument => $"unknown argument '{argument}'; see certfleet-coordinator --help", problems);
        if (arguments is null)
        {
            return new CoordinatorCommandLine(null, [], HelpRequested: true);
        }
        var given = arguments.Where(o => o.Name != "--config").ToList();
        var configFiles = arguments.Where(o => o.Name == "--config").Select(o => o.Value).ToList();
        if (configFiles.Count > 1)
        {
            problems.Add("--config is given twice; give it once");
        }
        var configFile = configFiles.FirstOrDefault();
        configFile ??= File.Exists(defaultConfigFile) ? defaultConfigFile : null;
        // the file's keys are the options without their dashes
        List<(string Name, string Value)> fromFile = configFile is null ? [] : KeyValueConfigFile.Read(configFile,
                ValueOptions.Select(o => o[2..]).ToList(), RepeatableOptions.Select(o => o[2..]).ToHashSet(StringComparer.Ordinal), problems)
            .Select(setting => ("--" + setting.Key, setting.Value)).ToList();
        // the command line wins: an option given there replaces the file's lines for it (all CA pairs at once)
        var settings = fromFile.Where(f => !given.Any(g => Group(g.Name) == Group(f.Name))).Concat(given);

        var single = new Dictionary<string, string>(StringComparer.Ordinal);
        var authorityArguments = new ClusterAuthorityArguments();
        foreach (var (name, value) in settings)
        {
            if (!authorityArguments.Add(name, value, environment, problems) && !single.TryAdd(name, value))
            {
                problems.Add($"{name} is given twice; give it once");
            }
        }
        var authorities = authorityArguments.Pair(problems);

        TimeSpan? autoRenew = null;
        if (single.TryGetValue("--auto-renew-within", out var within))
        {
            if (DurationText.TryParse(within, out var duration, out var problem))
            {
                autoRenew = duration;
            }
            else
            {
                problems.Add(DurationText.Error("--auto-renew-within", within, problem));
            }
        }
        RenewalWindow? window = null;
        if (single.TryGetValue("--window", out var windowText))
        {
            window = WindowText.TryParse(windowText, out var windowError);
            if (windowError is not null)
            {
                problems.Add(windowError);
            }
        }

        var (database, passwordFile) = DatabaseSettings(single, environment, problems);
        var lease = TimeSpan.FromSeconds(10);
        if (single.TryGetValue("--lease-duration", out var leaseText))
        {
            if (!DurationText.TryParse(leaseText, out lease, out var problem))
            {
                problems.Add(DurationText.Error("--lease-duration", leaseText, problem));
            }
            else if (lease < TimeSpan.FromSeconds(2) || lease > TimeSpan.FromMinutes(5))
            {
                problems.Add($"--lease-duration {leaseText}: give 2s to 5m; 10s is the default (a standby takes over about that long after the active one stops)");
            }
        }
        var webhook = NotifyUrl(single, "--notify-webhook", problems);
        var alertmanager = NotifyUrl(single, "--notify-alertmanager", problems);
        var options = new CoordinatorOptions
        {
            NotifyWebhook = webhook,
            NotifyAlertmanager = alertmanager,
            Listen = single.GetValueOrDefault("--listen", ""),
            StateDirectory = single.GetValueOrDefault("--state-dir", ""),
            ClusterAuthorities = authorities,
            MetricsListen = single.GetValueOrDefault("--metrics-listen"),
            AutoRenewWithin = autoRenew,
            Window = window,
            Database = database,
            DatabasePasswordFile = passwordFile,
            LeaseDuration = lease,
        };
        problems.AddRange(CoordinatorOptionsCheck.Problems(options));
        if (window is null && windowText is not null && within is null)
        {
            // the check sees no window when it did not parse; the missing threshold is still worth saying now
            problems.Add(CoordinatorOptionsCheck.WindowWithoutThreshold);
        }
        return new CoordinatorCommandLine(problems.Count == 0 ? options : null, problems, HelpRequested: false);
    }

    /// <summary>
    /// An http(s) URL with a host and no user or password in it (the URL is logged; a receiver that needs a secret can
    /// take it in a path segment the operator keeps out of logs, or behind a local proxy). Alertmanager's base URL
    /// ends with a slash so "api/v2/alerts" goes under any path prefix it is served at.
    /// </summary>
    private static Uri? NotifyUrl(Dictionary<string, string> single, string option, List<string> problems)
    {
        if (!single.TryGetValue(option, out var text))
        {
            return null;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
        {
            problems.Add($"{option} '{text}': give an http:// or https:// URL, e.g. {(option == "--notify-webhook" ? "https://hooks.example/certfleet" : "http://alertmanager.example:9093/")}");
            return null;
        }
        if (url.UserInfo.Length > 0)
        {
            problems.Add($"{option}: a user or password in the URL would be written to the log; leave it out");
            return null;
        }
        return option == "--notify-alertmanager" && !url.AbsolutePath.EndsWith('/') ? new Uri(url + "/") : url;
    }

    /// <summary>--database (checked as a PostgreSQL URL here, so a mistake is listed with the others) and the file its password is in.</summary>
    private static (string? Url, string? PasswordFile) DatabaseSettings(Dictionary<string, string> single, Func<string, string?> environment, List<string> problems)
    {
        var passwordFile = DatabasePassword.File(single.GetValueOrDefault("--database-password-credential"),
            single.GetValueOrDefault("--database-password-file"), environment, problems);
        if (!single.TryGetValue("--database", out var url))
        {
            if (passwordFile is not null)
            {
                problems.Add("a database password is given without --database; give --database postgresql://USER@HOST:PORT/DB, or leave the password out");
            }
            return (null, null);
        }
        if (State.Engines.PostgresLocation.TryParse(url, password: null, "--database", out var problem) is null)
        {
            problems.Add(problem!);
            return (null, null);
        }
        return (url, passwordFile);
    }

    private static string Group(string name) => name switch
    {
        "--ca-cert" or "--ca-key" => "ca",
        "--ca-key-passphrase-credential" or "--ca-key-passphrase-file" => "passphrase",
        "--ca-key-pin-credential" or "--ca-key-pin-file" => "pin",
        "--database-password-credential" or "--database-password-file" => "database-password",
        _ => name,
    };
}
