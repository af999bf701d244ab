using System.Text.RegularExpressions;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>Node names as Kubernetes allows them (RFC 1123 subdomain), which is also what goes into an agent's CN.</summary>
internal static partial class NodeNames
{
    /// <summary>null when fine, else what is wrong with the name.</summary>
    public static string? Problem(string? node) => node switch
    {
        null or "" => "the node name is empty; give --node NAME",
        { Length: > 253 } => $"the node name '{node[..40]}...' is longer than 253 characters",
        "certfleet-admin" => "'certfleet-admin' is reserved for the admin credential; give the node's own name",
        _ when !Pattern().IsMatch(node) => $"'{node}' is not a valid node name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)",
        _ => null,
    };

    [GeneratedRegex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    private static partial Regex Pattern();
}
