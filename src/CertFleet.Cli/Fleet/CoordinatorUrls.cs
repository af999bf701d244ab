using CertFleet.Pki;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// A coordinator address as the CLI is given it: one https URL, or every coordinator of a group separated by commas,
/// tried in that order. The one parser of such lists in the CLI; each entry is checked on its own, so an error names
/// the one that is wrong.
/// </summary>
internal static class CoordinatorUrls
{
    /// <param name="text">the list as written</param>
    /// <param name="where">what held it, for the error (e.g. "admin.conf: server")</param>
    public static IReadOnlyList<Uri> Parse(string? text, string where)
    {
        var entries = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        var urls = new List<Uri>(entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            if (entry.Length == 0)
            {
                throw new PkiException(entries.Length == 1
                    ? $"{where} is empty; give the coordinator's https:// URL (a group's: every one, separated by commas)"
                    : $"{where} '{text}': entry {i + 1} is empty; separate the coordinators' URLs with single commas");
            }
            if (!Uri.TryCreate(entry, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps || url.Host.Length == 0)
            {
                throw new PkiException($"{where} '{entry}' is not an https:// URL");
            }
            if (urls.Any(u => Same(u, url)))
            {
                throw new PkiException($"{where} '{text}': {entry} is given twice; name each coordinator of the group once");
            }
            urls.Add(url);
        }
        return urls;
    }

    /// <summary>Scheme, host and port: what a channel dials (a trailing slash or the host's case change nothing).</summary>
    public static bool Same(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
