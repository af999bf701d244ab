namespace CertFleet.Agent.Options;

/// <summary>
/// The value of --coordinator (and agent.conf's coordinator:): one https URL, or the URLs of every coordinator of a
/// group separated by commas, tried in the order given. Each entry is checked on its own, so an error names the one
/// that is wrong instead of the whole list.
/// </summary>
internal static class CoordinatorUrls
{
    public const string Example = "https://coordinator.example:7443";

    /// <summary>The URLs in order, or null with every problem added to <paramref name="errors"/>.</summary>
    public static IReadOnlyList<Uri>? Parse(string text, List<string> errors)
    {
        var entries = text.Split(',', StringSplitOptions.TrimEntries);
        var urls = new List<Uri>(entries.Length);
        var before = errors.Count;
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            if (entry.Length == 0)
            {
                errors.Add($"--coordinator '{text}': entry {i + 1} is empty; give each coordinator's URL once, separated by single commas, e.g. {Example},https://coordinator-2.example:7443");
            }
            else if (!Uri.TryCreate(entry, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps || url.Host.Length == 0)
            {
                errors.Add($"--coordinator '{entry}': not an https:// URL; the agent only talks TLS, e.g. {Example}");
            }
            else if (urls.Any(u => SameCoordinator(u, url)))
            {
                errors.Add($"--coordinator '{text}': {entry} is given twice; name each coordinator of the group once");
            }
            else
            {
                urls.Add(url);
            }
        }
        return errors.Count == before ? urls : null;
    }

    /// <summary>Scheme, host and port: what a gRPC channel dials (a trailing slash or the host's case change nothing).</summary>
    public static bool SameCoordinator(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
