namespace CertFleet.Pki.Configuration;

/// <summary>
/// The daemons' config files (/etc/certfleet/coordinator.conf and agent.conf): the command line's long options as
/// `key: value` lines, the key without its dashes; blank lines and `#` comments ignored; a value may be quoted with
/// ' or "; a key once, unless it may repeat (the coordinator's CA pairs). One reader, so both files follow the
/// same rules and say the same things about the same mistakes.
/// </summary>
public static class KeyValueConfigFile
{
    /// <summary>
    /// The settings of <paramref name="path"/> in file order. Every problem (unreadable file, unknown key, a key given
    /// twice) goes to <paramref name="problems"/> with its line number, so an operator sees them all at once.
    /// </summary>
    public static List<(string Key, string Value)> Read(
        string path, IReadOnlyCollection<string> keys, IReadOnlySet<string> repeatable, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(repeatable);
        ArgumentNullException.ThrowIfNull(problems);
        var settings = new List<(string Key, string Value)>();
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"--config {path}: cannot be read ({e.Message})");
            return settings;
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 1; n <= lines.Length; n++)
        {
            var line = lines[n - 1].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var key = colon > 0 ? line[..colon].Trim() : "";
            if (!keys.Contains(key))
            {
                problems.Add($"{path}:{n}: expected `key: value` with key one of {string.Join(", ", keys.Order(StringComparer.Ordinal))}");
                continue;
            }
            if (!repeatable.Contains(key) && seen.TryGetValue(key, out var first))
            {
                problems.Add($"{path}:{n}: {key} is already given on line {first}; give it once");
                continue;
            }
            seen.TryAdd(key, n);
            settings.Add((key, Unquote(line[(colon + 1)..].Trim())));
        }
        return settings;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\'') ? value[1..^1] : value;
}
