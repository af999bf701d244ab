namespace CertFleet.Pki.Files;

/// <summary>
/// One listing of a node folder for <see cref="NodeRoot.EnumerateFiles"/>: entries are named under the folder as
/// the caller gave it, links are followed through the root, and each real folder is entered once (no loops).
/// </summary>
internal sealed class FolderWalk(NodeRoot root, bool recursive)
{
    private readonly List<string> _found = [];
    private readonly HashSet<string> _visited = new(StringComparer.Ordinal);

    public List<string> Run(string hostDirectory, string nodeDirectory)
    {
        Walk(hostDirectory, nodeDirectory);
        return _found;
    }

    private void Walk(string hostDirectory, string nodeDirectory)
    {
        if (!_visited.Add(hostDirectory)
            || root.Stat(hostDirectory, nodeDirectory, followSymlinks: true) is not { Kind: FileKind.Directory })
        {
            return;
        }
        var realNodeDirectory = root.ToNodePath(hostDirectory);
        foreach (var name in ListNames(hostDirectory, nodeDirectory))
        {
            if (AtomicFile.IsTemporary(name))
            {
                continue; // a crashed write's leftover is not a certificate of the node
            }
            var entryOnNode = NodePath.Combine(nodeDirectory, name);
            var entryHost = Path.Combine(hostDirectory, name);
            var status = root.Stat(entryHost, entryOnNode, followSymlinks: false);
            if (status is { Kind: FileKind.Symlink })
            {
                try
                {
                    entryHost = root.Resolve(NodePath.Combine(realNodeDirectory, name));
                }
                catch (PkiException)
                {
                    continue; // a looping link leads nowhere; it holds no file to list
                }
                status = root.Stat(entryHost, entryOnNode, followSymlinks: false);
            }
            // a name that is not UTF-8 was listed decoded, with U+FFFD: no file has that name, but the operator must hear
            // of it (a certificate under it would otherwise be missed in silence), so it is listed and its read says why
            if (status is { Kind: FileKind.Regular } || (status is null && NodePath.HasUndecodedName(name)))
            {
                _found.Add(entryOnNode);
            }
            else if (status is { Kind: FileKind.Directory } && recursive)
            {
                Walk(entryHost, entryOnNode);
            }
        }
    }

    private List<string> ListNames(string hostDirectory, string nodeDirectory)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(hostDirectory).Select(entry => Path.GetFileName(entry)).ToList();
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PkiException($"{root.Describe(nodeDirectory)}: permission denied listing the folder; run as root", e);
        }
        catch (IOException e)
        {
            throw new PkiException($"{root.Describe(nodeDirectory)}: could not list the folder ({e.Message})", e);
        }
    }
}
