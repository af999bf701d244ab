using System.Text;
using System.Text.RegularExpressions;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>
/// Node names as Kubernetes allows them (RFC 1123 subdomain), which is also what goes into an agent's CN; minus the
/// names no real node has and a client could mistake for something else (localhost, loopback addresses, the
/// coordinator's and the admin credential's own names).
/// </summary>
internal static partial class NodeNames
{
    public const int MaxLength = 253;

    /// <summary>null when fine, else what is wrong with the name (quoting it only when it is short and printable).</summary>
    public static string? Problem(string? node) => node switch
    {
        null or "" => "the node name is empty; give --node NAME",
        { Length: > MaxLength } => $"the node name '{Quote(node)}' is longer than {MaxLength} characters",
        _ when !Pattern().IsMatch(node) => $"'{Quote(node)}' is not a valid node name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)",
        _ when IsReserved(node) => $"'{node}' is reserved (localhost, 127.0.0.1 and CertFleet's own names never name a node); give the node's own name",
        _ => null,
    };

    /// <summary>At most 40 characters of an unchecked name, every byte outside printable ASCII as \uXXXX.</summary>
    public static string Quote(string text)
    {
        var shown = new StringBuilder();
        foreach (var c in text.Length > 40 ? text[..40] : text)
        {
            shown.Append(c is >= ' ' and <= '~' and not '\\' and not '\'' ? c.ToString() : $"\\u{(int)c:x4}");
        }
        return text.Length > 40 ? shown.Append("...").ToString() : shown.ToString();
    }

    private static bool IsReserved(string node) =>
        node is "localhost" or "localhost.localdomain" or "certfleet-coordinator" or "certfleet-admin"
        || node.EndsWith(".localhost", StringComparison.Ordinal)
        // what "localhost" resolves to; other loopback addresses can be real hosts' names (tests, containers)
        || node is "127.0.0.1" or "0.0.0.0";

    [GeneratedRegex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    private static partial Regex Pattern();
}
