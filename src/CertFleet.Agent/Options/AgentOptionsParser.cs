using CertFleet.Pki.Configuration;
using CertFleet.Pki.Text;

namespace CertFleet.Agent.Options;

/// <summary>The outcome of reading the settings: options, or every error found.</summary>
public sealed record AgentOptionsResult(AgentOptions? Options, IReadOnlyList<string> Errors, bool HelpRequested = false);

/// <summary>
/// Reads `--key value` / `--key=value` arguments over the `key: value` lines of a config file (command line wins)
/// and checks them all, so an operator sees every mistake in one go.
/// </summary>
public static class AgentOptionsParser
{
    private static readonly string[] Keys =
        ["coordinator", "node", "root", "state-dir", "token", "token-file", "ca-hash", "restart-command", "health-command", "daemon-reload-command", "report-interval", "gate-timeout"];

    private static readonly HashSet<string> NoRepeatableKeys = [];

    public const string Usage =
        "usage: certfleet-agent --coordinator URL[,URL...] --node NAME [--root DIR] [--state-dir DIR] [--token T | --token-file F] [--ca-hash sha256:HEX]\n" +
        "                       [--restart-command CMD] [--health-command CMD] [--daemon-reload-command CMD] [--report-interval 5m] [--gate-timeout 60s]\n" +
        "                       [--config FILE]   (default /etc/certfleet/agent.conf when it exists; lines `key: value`)\n" +
        "       several --coordinator URLs (a coordinator group) are tried in order; a standby points to the active one";

    public static AgentOptionsResult Parse(IReadOnlyList<string> args, string defaultConfigFile = AgentOptions.DefaultConfigFile)
    {
        var errors = new List<string>();
        var command = new Dictionary<string, string>(StringComparer.Ordinal);
        string? configFile = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return new AgentOptionsResult(null, [], HelpRequested: true);
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{arg}'; settings are given as --name value");
                continue;
            }
            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            if (name != "config" && !Keys.Contains(name))
            {
                errors.Add($"unknown option --{name}; see --help");
                if (value is null && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    i++; // every option takes a value, so its value is not a stray argument
                }
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    errors.Add($"--{name} needs a value");
                    continue;
                }
                value = args[++i];
            }
            if (name == "config")
            {
                configFile = value;
            }
            else
            {
                command[name] = value;
            }
        }

        var settings = ReadConfig(configFile, defaultConfigFile, errors);
        foreach (var (key, value) in command)
        {
            settings[key] = value;
        }
        return Validate(settings, errors);
    }

    private static Dictionary<string, string> ReadConfig(string? explicitFile, string defaultFile, List<string> errors)
    {
        var file = explicitFile ?? (File.Exists(defaultFile) ? defaultFile : null);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (file is not null)
        {
            foreach (var (key, value) in KeyValueConfigFile.Read(file, Keys, NoRepeatableKeys, errors))
            {
                settings[key] = value;
            }
        }
        return settings;
    }

    private static AgentOptionsResult Validate(Dictionary<string, string> settings, List<string> errors)
    {
        IReadOnlyList<Uri>? coordinators = null;
        if (!settings.TryGetValue("coordinator", out var url) || url.Length == 0)
        {
            errors.Add($"--coordinator is required: the coordinator's URL, e.g. {CoordinatorUrls.Example} (a group's: every one, separated by commas)");
        }
        else
        {
            coordinators = CoordinatorUrls.Parse(url, errors);
        }
        var node = settings.GetValueOrDefault("node", "");
        if (node.Length == 0)
        {
            errors.Add("--node is required: this node's name as the coordinator knows it, e.g. master-1");
        }
        else if (node.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '/'))
        {
            errors.Add($"--node '{node}': a node name has no spaces, slashes or control characters");
        }
        var token = Token(settings, errors);
        byte[]? caHash = null;
        if (settings.TryGetValue("ca-hash", out var hashText))
        {
            if (!Sha256Text.TryParse(hashText, out caHash, out var problem))
            {
                errors.Add(Sha256Text.Error("--ca-hash", hashText, problem));
            }
        }
        if (token is not null && !settings.ContainsKey("ca-hash"))
        {
            errors.Add($"--{(settings.ContainsKey("token-file") ? "token-file" : "token")} needs --ca-hash sha256:HEX, which pins the coordinator's CA; copy both from the join command");
        }
        if (token is { Length: 0 })
        {
            errors.Add(settings.TryGetValue("token-file", out var tokenFile)
                ? $"--token-file {tokenFile}: holds no token; put the token from `certfleet token create` in it"
                : "--token is empty; copy it from `certfleet token create`");
        }
        var reportInterval = Duration(settings, "report-interval", AgentOptions.DefaultReportInterval, errors);
        var gateTimeout = Duration(settings, "gate-timeout", AgentOptions.DefaultGateTimeout, errors);
        foreach (var key in new[] { "root", "state-dir", "restart-command", "health-command", "daemon-reload-command" })
        {
            if (settings.TryGetValue(key, out var value) && value.Length == 0)
            {
                errors.Add($"--{key} is empty; leave it out for the default");
            }
        }
        if (settings.TryGetValue("root", out var root) && root.Length > 0 && !Directory.Exists(root))
        {
            errors.Add($"--root {root}: no such folder; it must hold the node's file system (default /)");
        }
        if (errors.Count > 0)
        {
            return new AgentOptionsResult(null, errors);
        }
        var options = new AgentOptions
        {
            Coordinator = coordinators![0],
            Coordinators = coordinators,
            Node = node,
            Root = settings.GetValueOrDefault("root", "/"),
            StateDirectory = settings.GetValueOrDefault("state-dir", "/var/lib/certfleet-agent"),
            Token = token,
            CaHash = caHash,
            RestartCommand = settings.GetValueOrDefault("restart-command"),
            HealthCommand = settings.GetValueOrDefault("health-command"),
            DaemonReloadCommand = settings.GetValueOrDefault("daemon-reload-command"),
            ReportInterval = reportInterval,
            GateTimeout = gateTimeout,
        };
        return new AgentOptionsResult(options, []);
    }

    /// <summary>
    /// The enrollment token from --token, or from the file --token-file names: a command line is visible to every user
    /// in `ps` and /proc while the agent runs, a file of mode 0600 is not (and systemd's LoadCredential= can hand one over).
    /// </summary>
    private static string? Token(Dictionary<string, string> settings, List<string> errors)
    {
        if (!settings.TryGetValue("token-file", out var file))
        {
            return settings.GetValueOrDefault("token");
        }
        if (settings.ContainsKey("token"))
        {
            errors.Add("--token and --token-file both given; give the token one way (--token-file keeps it out of `ps`)");
            return null;
        }
        if (file.Length == 0)
        {
            errors.Add("--token-file is empty; give the file that holds the token from `certfleet token create`");
            return null;
        }
        try
        {
            if (new FileInfo(file) is { Exists: true, Length: > 4096 })
            {
                errors.Add($"--token-file {file}: larger than a token (4 KiB); give the file that holds only the token");
                return null;
            }
            // `echo TOKEN > file` leaves a newline that is not part of it
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"--token-file {file}: cannot be read ({e.Message}); check the path and that root may read it");
            return null;
        }
    }

    private static TimeSpan Duration(Dictionary<string, string> settings, string key, TimeSpan fallback, List<string> errors)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return fallback;
        }
        if (!DurationText.TryParse(text, out var duration, out var problem))
        {
            errors.Add(DurationText.Error($"--{key}", text, problem));
            return fallback;
        }
        if (duration > AgentOptions.LongestTimer)
        {
            errors.Add($"--{key} '{text}' is longer than {DurationText.Format(AgentOptions.LongestTimer)}, the longest timer the agent can run; "
                + $"give at most {DurationText.Format(AgentOptions.LongestTimer)}");
            return fallback;
        }
        return duration;
    }
}
