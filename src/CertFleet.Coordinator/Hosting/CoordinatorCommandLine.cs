namespace CertFleet.Coordinator.Hosting;

/// <summary>The parsed command line: options when every check passed, otherwise every problem found.</summary>
internal sealed record CoordinatorCommandLine(CoordinatorOptions? Options, IReadOnlyList<string> Problems, bool HelpRequested)
{
    public const string Usage = """
        Usage: certfleet-coordinator --listen HOST:PORT --state-dir DIR [--ca-cert FILE --ca-key FILE]...
                                     [--metrics-listen HOST:PORT] [--auto-renew-within D [--window "Sat 02:00-04:00"]]

          --listen HOST:PORT        where agents and the CLI connect (HTTPS, HTTP/2, mTLS)
          --state-dir DIR           database, fleet CA and admin.conf (written on first start)
          --ca-cert F --ca-key F    a cluster CA to sign renewals with; repeat for each CA (ca, front-proxy-ca, ...)
          --metrics-listen HOST:PORT  Prometheus metrics over plain HTTP (GET /metrics)
          --auto-renew-within D     start a rollout by itself when a certificate expires within D (30d, 12h)
          --window "DAY HH:MM-HH:MM"  only start automatic rollouts inside this weekly window (UTC)
        """;

    private static readonly HashSet<string> ValueOptions =
        ["--listen", "--state-dir", "--ca-cert", "--ca-key", "--metrics-listen", "--auto-renew-within", "--window"];

    public static CoordinatorCommandLine Parse(IReadOnlyList<string> args)
    {
        var problems = new List<string>();
        var single = new Dictionary<string, string>(StringComparer.Ordinal);
        var certificates = new List<string>();
        var keys = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, value) = Split(args[i]);
            if (name is "--help" or "-h")
            {
                return new CoordinatorCommandLine(null, [], HelpRequested: true);
            }
            if (!ValueOptions.Contains(name))
            {
                problems.Add($"unknown argument '{args[i]}'; see certfleet-coordinator --help");
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    problems.Add($"{name} needs a value");
                    continue;
                }
                value = args[++i];
            }
            if (name == "--ca-cert")
            {
                certificates.Add(value);
            }
            else if (name == "--ca-key")
            {
                keys.Add(value);
            }
            else if (!single.TryAdd(name, value))
            {
                problems.Add($"{name} is given twice; give it once");
            }
        }

        var authorities = new List<ClusterAuthorityFiles>();
        for (var i = 0; i < Math.Max(certificates.Count, keys.Count); i++)
        {
            if (i >= keys.Count)
            {
                problems.Add($"--ca-cert {certificates[i]} has no --ca-key; give each CA certificate with its key (--ca-cert F --ca-key F)");
            }
            else if (i >= certificates.Count)
            {
                problems.Add($"--ca-key {keys[i]} has no --ca-cert; give each CA key with its certificate (--ca-cert F --ca-key F)");
            }
            else
            {
                authorities.Add(new ClusterAuthorityFiles(certificates[i], keys[i]));
            }
        }

        TimeSpan? autoRenew = null;
        if (single.TryGetValue("--auto-renew-within", out var within))
        {
            if (DurationText.TryParse(within, out var duration))
            {
                autoRenew = duration;
            }
            else
            {
                problems.Add($"--auto-renew-within '{within}' is not a duration; give a number with d, h, m or s, e.g. 30d");
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

        var options = new CoordinatorOptions
        {
            Listen = single.GetValueOrDefault("--listen", ""),
            StateDirectory = single.GetValueOrDefault("--state-dir", ""),
            ClusterAuthorities = authorities,
            MetricsListen = single.GetValueOrDefault("--metrics-listen"),
            AutoRenewWithin = autoRenew,
            Window = window,
        };
        problems.AddRange(CoordinatorOptionsCheck.Problems(options));
        if (window is null && windowText is not null && within is null)
        {
            // the check sees no window when it did not parse; the missing threshold is still worth saying now
            problems.Add(CoordinatorOptionsCheck.WindowWithoutThreshold);
        }
        return new CoordinatorCommandLine(problems.Count == 0 ? options : null, problems, HelpRequested: false);
    }

    private static (string Name, string? Value) Split(string argument)
    {
        var equals = argument.IndexOf('=', StringComparison.Ordinal);
        return argument.StartsWith("--", StringComparison.Ordinal) && equals > 0
            ? (argument[..equals], argument[(equals + 1)..])
            : (argument, null);
    }
}
