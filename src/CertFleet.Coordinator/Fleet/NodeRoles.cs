namespace CertFleet.Coordinator.Fleet;

/// <summary>The wire and database spelling of <see cref="NodeRole"/>: "master" or "worker".</summary>
internal static class NodeRoles
{
    public static string Format(NodeRole role) => role == NodeRole.Master ? "master" : "worker";

    public static NodeRole Parse(string text) => text switch
    {
        "master" => NodeRole.Master,
        "worker" => NodeRole.Worker,
        _ => throw new ArgumentException($"role '{text}' is neither master nor worker; give --role master or --role worker"),
    };

    /// <summary>Empty means worker, as the admin API documents.</summary>
    public static NodeRole ParseOrWorker(string text) => text.Length == 0 ? NodeRole.Worker : Parse(text);
}
