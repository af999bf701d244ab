namespace CertFleet.Pki.Files;

/// <summary>Text rules for absolute paths as a node sees them ("/" based, no root folder in them).</summary>
internal static class NodePath
{
    /// <summary>The components of an absolute node path; "" and "." dropped, ".." kept for the resolver.</summary>
    public static IEnumerable<string> Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(part => part != ".");

    /// <summary>
    /// Whether a listed name was not UTF-8: .NET decodes file names as UTF-8 and puts U+FFFD for bytes that are not, so
    /// such a name names no file and cannot be opened; a real name holding U+FFFD itself opens and never gets here.
    /// </summary>
    public static bool HasUndecodedName(string path) => path.Contains('\uFFFD', StringComparison.Ordinal);

    public static string RequireAbsolute(string pathOnNode)
    {
        if (string.IsNullOrEmpty(pathOnNode) || pathOnNode[0] != '/' || pathOnNode.Contains('\0'))
        {
            throw new PkiException(
                $"{pathOnNode}: not an absolute path on the node; give the full path starting with '/' as the node sees it");
        }
        return pathOnNode;
    }

    /// <summary>"." and ".." and doubled slashes removed by text alone; ".." stops at "/".</summary>
    public static string Normalize(string pathOnNode)
    {
        var parts = new List<string>();
        foreach (var part in Components(RequireAbsolute(pathOnNode)))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else
            {
                parts.Add(part);
            }
        }
        return "/" + string.Join('/', parts);
    }

    public static string Combine(string directoryOnNode, string name) =>
        directoryOnNode.EndsWith('/') ? directoryOnNode + name : directoryOnNode + "/" + name;
}
