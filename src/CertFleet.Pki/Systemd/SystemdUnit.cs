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
        IReadOnlyDictionary<string, string> environment, IReadOnlyList<EnvironmentFileReference> environmentFiles)
    {
        Name = name;
        ExecStart = execStart;
        Environment = environment;
        EnvironmentFiles = environmentFiles;
        FileReferences = FileReferenceFinder.Find(name, execStart, environment);
    }

    public string Name { get; }

    /// <summary>argv per <c>ExecStart=</c> line: unquoted, continuations joined, variables expanded, prefixes stripped.</summary>
    public IReadOnlyList<IReadOnlyList<string>> ExecStart { get; }

    /// <summary><c>Environment=</c> settings overridden by <c>EnvironmentFile=</c> contents, as systemd merges them.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyList<EnvironmentFileReference> EnvironmentFiles { get; }

    public IReadOnlyList<UnitFileReference> FileReferences { get; }

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
        return new SystemdUnit(unitName, execStart, environment, files.Select(f => f.File).ToList());
    }

    /// <summary>The value of a flag (<c>--kubeconfig</c>) in ExecStart, or of a variable; null when absent.</summary>
    public string? GetSetting(string flagOrVariable)
    {
        ArgumentNullException.ThrowIfNull(flagOrVariable);
        if (!flagOrVariable.StartsWith('-'))
        {
            return Environment.GetValueOrDefault(flagOrVariable);
        }
        // Go flag parsing takes -x and --x alike, and the last occurrence wins.
        var name = flagOrVariable.TrimStart('-');
        return ExecStart
            .SelectMany(FileReferenceFinder.Flags)
            .LastOrDefault(f => f.Flag.TrimStart('-') == name)
            .Value;
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
