namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// /etc/certfleet/coordinator.conf: the command line's options as `key: value` lines (the agent's agent.conf syntax),
/// `#` comments, a key once unless it may repeat (ca-cert, ca-key and the passphrases, one line per CA).
/// </summary>
internal static class CoordinatorConfigFile
{
    /// <summary>The settings in file order, as (--name, value); every problem found goes to <paramref name="problems"/>.</summary>
    public static List<(string Name, string Value)> Read(
        string path, IReadOnlySet<string> names, IReadOnlySet<string> repeatable, List<string> problems)
    {
        var settings = new List<(string Name, string Value)>();
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
            var name = "--" + (colon > 0 ? line[..colon].Trim() : "");
            if (!names.Contains(name))
            {
                problems.Add($"{path}:{n}: expected `key: value` with key one of {string.Join(", ", names.Order(StringComparer.Ordinal).Select(k => k[2..]))}");
                continue;
            }
            if (!repeatable.Contains(name) && seen.TryGetValue(name, out var first))
            {
                problems.Add($"{path}:{n}: {name[2..]} is already given on line {first}; give it once");
                continue;
            }
            seen.TryAdd(name, n);
            settings.Add((name, Unquote(line[(colon + 1)..].Trim())));
        }
        return settings;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\'') ? value[1..^1] : value;
}
