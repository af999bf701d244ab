using CertFleet.Pki.ComponentConfigs;

namespace CertFleet.Pki.Systemd;

/// <summary>
/// The parts of a service unit (with its drop-ins) that say which files the service uses: the command lines,
/// the environment, and the certificate, key, CA and kubeconfig paths named there.
/// </summary>
public sealed class SystemdUnit
{
    // ExecStart=-/bin/x, @, :, +, ! and !! change how systemd runs the command, not what it runs.
    private static readonly char[] ExecPrefixes = ['-', '@', ':', '+', '!'];

    private SystemdUnit(string name, IReadOnlyList<IReadOnlyList<string>> execStart,
        IReadOnlyDictionary<string, string> environment, IReadOnlyList<EnvironmentFileReference> environmentFiles,
        IReadOnlyList<ComponentConfig> componentConfigs)
    {
        Name = name;
        ExecStart = execStart;
        Environment = environment;
        EnvironmentFiles = environmentFiles;
        ComponentConfigs = componentConfigs;
        FileReferences = [.. FileReferenceFinder.Find(name, execStart, environment), .. componentConfigs.SelectMany(c => c.FileReferences(name))];
    }

    public string Name { get; }

    /// <summary>argv per <c>ExecStart=</c> line: unquoted, continuations joined, variables expanded, prefixes stripped.</summary>
    public IReadOnlyList<IReadOnlyList<string>> ExecStart { get; }

    /// <summary><c>Environment=</c> settings overridden by <c>EnvironmentFile=</c> contents, as systemd merges them.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyList<EnvironmentFileReference> EnvironmentFiles { get; }

    /// <summary>The program ExecStart runs, without its folder ("kubelet"); "" when there is none.</summary>
    public string Program => ExecStart.Count > 0 && ExecStart[0].Count > 0 ? System.IO.Path.GetFileName(ExecStart[0][0]) : "";

    /// <summary>Every file the service names: by flag or variable, and inside its component configs.</summary>
    public IReadOnlyList<UnitFileReference> FileReferences { get; }

    /// <summary>The component-config files its --config / --config-file name, as read.</summary>
    public IReadOnlyList<ComponentConfig> ComponentConfigs { get; }

    /// <summary>The settings files (--config, --config-file, ETCD_CONFIG_FILE) it names, node paths.</summary>
    public IEnumerable<string> ComponentConfigPaths =>
        FileReferences.Where(r => r.Source is null && FileReferenceFinder.IsComponentConfigSetting(r.Setting)).Select(r => r.Path).Distinct();

    /// <summary>This unit with the component configs it names read in.</summary>
    public SystemdUnit WithComponentConfigs(IReadOnlyList<ComponentConfig> configs) =>
        new(Name, ExecStart, Environment, EnvironmentFiles, configs);

    /// <summary>
    /// Reads <paramref name="text"/> and then <paramref name="dropIns"/> in order (later settings win; an empty
    /// <c>ExecStart=</c>, <c>Environment=</c> or <c>EnvironmentFile=</c> resets the list). <paramref name="readFile"/>
    /// reads a file by its absolute node path and returns null when it is missing.
    /// </summary>
    public static SystemdUnit Parse(string unitName, string text, IReadOnlyList<string> dropIns, Func<string, string?> readFile)
    {
        ArgumentNullException.ThrowIfNull(dropIns);
        ArgumentNullException.ThrowIfNull(readFile);
        var settings = UnitFileText.Read(text, unitName);
        for (var i = 0; i < dropIns.Count; i++)
        {
            settings.AddRange(UnitFileText.Read(dropIns[i], $"{unitName} drop-in #{i + 1}"));
        }

        var commands = new List<(List<string> Words, UnitSetting Setting)>();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = new List<(EnvironmentFileReference File, UnitSetting Setting)>();
        foreach (var setting in settings.Where(s => s.Section == "Service"))
        {
            switch (setting.Key)
            {
                case "ExecStart" when setting.Value.Length == 0:
                    commands.Clear();
                    break;
                case "ExecStart":
                    commands.Add((CommandWords(setting), setting));
                    break;
                case "Environment" when setting.Value.Length == 0:
                    environment.Clear();
                    break;
                case "Environment":
                    Assign(environment, UnitWords.Split(setting.Value, setting.Where));
                    break;
                case "EnvironmentFile" when setting.Value.Length == 0:
                    files.Clear();
                    break;
                case "EnvironmentFile":
                    var optional = setting.Value.StartsWith('-');
                    files.Add((new EnvironmentFileReference(optional ? setting.Value[1..].Trim() : setting.Value, optional), setting));
                    break;
            }
        }

        // Files are read after all settings, in order, and override Environment= (systemd.exec(5)).
        foreach (var (file, setting) in files)
        {
            var content = readFile(file.Path);
            if (content is null)
            {
                if (file.Optional)
                {
                    continue;
                }
                throw new PkiException($"{setting.Where}: EnvironmentFile={file.Path} does not exist, so systemd would " +
                    "not start the service; restore the file, or write EnvironmentFile=-" + file.Path + " if it is optional");
            }
            foreach (var (key, value) in EnvironmentFileText.Read(content))
            {
                environment[key] = value;
            }
        }

        var execStart = commands
            .Select(c => (IReadOnlyList<string>)CommandExpansion.Expand(c.Words, environment))
            .ToList();
        return new SystemdUnit(unitName, execStart, environment, files.Select(f => f.File).ToList(), []);
    }

    /// <summary>
    /// The value of a flag (<c>--kubeconfig</c>) in ExecStart, else of the component-config key that stands for it
    /// (kubelet's tlsCertFile for --tls-cert-file), or of a variable; null when absent.
    /// </summary>
    public string? GetSetting(string flagOrVariable)
    {
        ArgumentNullException.ThrowIfNull(flagOrVariable);
        if (!flagOrVariable.StartsWith('-'))
        {
            return Environment.GetValueOrDefault(flagOrVariable);
        }
        // Go flag parsing takes -x and --x alike, and the last occurrence wins.
        var name = flagOrVariable.TrimStart('-');
        var fromFlag = ExecStart
            .SelectMany(FileReferenceFinder.Flags)
            .LastOrDefault(f => f.Flag.TrimStart('-') == name)
            .Value;
        return fromFlag ?? FromComponentConfig(flagOrVariable)?.Value;
    }

    /// <summary>
    /// A boolean flag (<c>--rotate-certificates</c>, <c>--rotate-certificates=false</c>: Go's bool flags never take
    /// the next word), else its component-config key; with where it was set, for messages. Null when set nowhere.
    /// </summary>
    public (bool Value, string Where)? GetSwitch(string flag)
    {
        ArgumentNullException.ThrowIfNull(flag);
        var name = flag.TrimStart('-');
        (bool, string)? found = null;
        foreach (var arg in ExecStart.SelectMany(argv => argv.Skip(1)))
        {
            if (arg.Length < 2 || arg[0] != '-' || arg.TrimStart('-') is not { } bare)
            {
                continue;
            }
            if (bare == name)
            {
                found = (true, arg);
            }
            else if (bare.StartsWith(name + "=", StringComparison.Ordinal) && bool.TryParse(bare[(name.Length + 1)..], out var value))
            {
                found = (value, arg);
            }
        }
        if (found is not null)
        {
            return found;
        }
        return FromComponentConfig(flag) is ({ } config, { } key, _) && config.GetBool(key) is { } fromConfig
            ? (fromConfig, $"{key}: {(fromConfig ? "true" : "false")} in {config.Path}")
            : null;
    }

    private (ComponentConfig Config, string Key, string Value)? FromComponentConfig(string flag)
    {
        foreach (var config in ComponentConfigs)
        {
            if (ComponentSettings.KeyFor(config, flag) is { } key && config.Get(key) is { } value)
            {
                return (config, key, value);
            }
        }
        return null;
    }

    private static List<string> CommandWords(UnitSetting setting)
    {
        var words = UnitWords.Split(setting.Value, setting.Where);
        if (words.Count > 0)
        {
            words[0] = words[0].TrimStart(ExecPrefixes);
        }
        return words;
    }

    // Environment="A=1" "B=two words": each word is one assignment; systemd ignores words that are not NAME=VALUE.
    private static void Assign(Dictionary<string, string> environment, List<string> words)
    {
        foreach (var word in words)
        {
            var equals = word.IndexOf('=');
            if (equals > 0 && EnvironmentFileText.IsValidName(word[..equals]))
            {
                environment[word[..equals]] = word[(equals + 1)..];
            }
        }
    }
}
