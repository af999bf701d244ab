namespace CertFleet.Pki.Files;

/// <summary>
/// A node's file system seen under a host folder (--root). Every path is resolved component by component so
/// that symlinks, absolute link targets and ".." all stay inside the root; nothing outside it is read.
/// </summary>
public sealed class NodeRoot
{
    private const int MaxSymlinks = 40; // as the kernel's own limit (ELOOP)

    public NodeRoot(string hostDirectory)
    {
        string full;
        try
        {
            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(hostDirectory));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new PkiException($"{hostDirectory}: not a usable root folder ({e.Message}); pass --root an existing folder", e);
        }
        if (!Directory.Exists(full))
        {
            throw new PkiException(File.Exists(full)
                ? $"{full}: is a file, not a folder; --root must name the folder that holds the node's file system"
                : $"{full}: the root folder does not exist; pass --root an existing folder (default /)");
        }
        HostDirectory = full;
    }

    /// <summary>Full host path of the root, without a trailing slash (except "/").</summary>
    public string HostDirectory { get; }

    /// <summary>The host path of a node path with every symlink followed; the last component need not exist.</summary>
    public string Resolve(string pathOnNode) => ResolveCore(pathOnNode, followFinal: true);

    /// <summary>As <see cref="Resolve"/> but the last component is left as it is even when it is a symlink.</summary>
    internal string ResolveNoFollow(string pathOnNode) => ResolveCore(pathOnNode, followFinal: false);

    /// <summary>The node path ("/" based) of a host path inside the root.</summary>
    public string ToNodePath(string hostPath)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(hostPath));
        if (HostDirectory == "/")
        {
            return full;
        }
        if (full == HostDirectory)
        {
            return "/";
        }
        if (full.StartsWith(HostDirectory + "/", StringComparison.Ordinal))
        {
            return full[HostDirectory.Length..];
        }
        throw new PkiException($"{hostPath}: outside the node root {HostDirectory}; only paths under --root belong to this node");
    }

    public bool IsSymlink(string pathOnNode) =>
        Stat(ResolveNoFollow(pathOnNode), pathOnNode, followSymlinks: false) is { Kind: FileKind.Symlink };

    /// <summary>The node path a symlink names (one link, re-rooted and with its folders resolved), else null.</summary>
    public string? SymlinkTarget(string pathOnNode)
    {
        var link = ResolveNoFollow(pathOnNode);
        if (Stat(link, pathOnNode, followSymlinks: false) is not { Kind: FileKind.Symlink })
        {
            return null;
        }
        var target = ReadLink(link, pathOnNode);
        var absolute = target.StartsWith('/')
            ? target
            : NodePath.Combine(ToNodePath(Path.GetDirectoryName(link)!), target);
        return ToNodePath(ResolveNoFollow(absolute));
    }

    /// <summary>
    /// Node paths of the regular files in a folder (and of symlinks there that reach a regular file inside the
    /// root), named under the folder as given, sorted ordinal. Dangling or looping links and leftovers of
    /// interrupted atomic writes are skipped; a missing folder yields nothing.
    /// </summary>
    public IEnumerable<string> EnumerateFiles(string directoryOnNode, bool recursive)
    {
        var found = new FolderWalk(this, recursive).Run(Resolve(directoryOnNode), NodePath.Normalize(directoryOnNode));
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>Node paths of the folders directly in a folder (symlinks to folders inside the root too), sorted; none when it is missing.</summary>
    public IEnumerable<string> EnumerateDirectories(string directoryOnNode)
    {
        var host = Resolve(directoryOnNode);
        if (Stat(host, directoryOnNode, followSymlinks: true) is not { Kind: FileKind.Directory })
        {
            return [];
        }
        var found = new List<string>();
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(host))
            {
                var onNode = NodePath.Combine(NodePath.Normalize(directoryOnNode), Path.GetFileName(entry));
                try
                {
                    if (Stat(Resolve(onNode), onNode, followSymlinks: false) is { Kind: FileKind.Directory })
                    {
                        found.Add(onNode);
                    }
                }
                catch (PkiException)
                {
                    // a looping or unreadable link leads to no folder
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{Describe(directoryOnNode)}: could not list the folder ({e.Message})", e);
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>The size of a regular file (links followed); null when it is missing or not a regular file.</summary>
    public long? SizeOf(string pathOnNode) =>
        Stat(Resolve(pathOnNode), pathOnNode, followSymlinks: true) is { Kind: FileKind.Regular, SizeBytes: var size } ? size : null;

    /// <summary>A file's bytes, or null when it does not exist.</summary>
    public byte[]? ReadAllBytes(string pathOnNode, long maxBytes)
    {
        var host = Resolve(pathOnNode);
        switch (Stat(host, pathOnNode, followSymlinks: true))
        {
            case null when NodePath.HasUndecodedName(pathOnNode):
                throw new PkiException($"{Describe(pathOnNode)}: the file's name is not valid UTF-8 (shown with U+FFFD in place of "
                    + "the bytes that are not), so it cannot be opened under that name; rename it to a UTF-8 name (`mv` with a ? "
                    + "wildcard in place of those bytes) and run again");
            case null:
                return null;
            case { Kind: FileKind.Directory }:
                throw new PkiException($"{Describe(pathOnNode)}: is a folder, not a file; point to the file itself");
            case { Kind: not FileKind.Regular }:
                throw new PkiException($"{Describe(pathOnNode)}: not a regular file (a device, socket or pipe); point to a file");
            case { SizeBytes: var size } when size > maxBytes:
                throw TooLarge(pathOnNode, size, maxBytes);
        }
        try
        {
            using var stream = new FileStream(host, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            var length = stream.Length;
            if (length > maxBytes)
            {
                throw TooLarge(pathOnNode, length, maxBytes);
            }
            var content = new byte[length];
            stream.ReadExactly(content);
            if (stream.ReadByte() != -1)
            {
                throw new PkiException($"{Describe(pathOnNode)}: the file grew while it was read; run again when nothing else writes it");
            }
            return content;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (EndOfStreamException e)
        {
            throw new PkiException($"{Describe(pathOnNode)}: the file shrank while it was read; run again when nothing else writes it", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PkiException($"{Describe(pathOnNode)}: permission denied; run as root or make the file readable", e);
        }
        catch (IOException e)
        {
            throw new PkiException($"{Describe(pathOnNode)}: could not be read ({e.Message}); check the disk and the file", e);
        }
    }

    private string ResolveCore(string pathOnNode, bool followFinal)
    {
        var resolved = new List<string>();
        var pending = new Stack<string>(NodePath.Components(NodePath.RequireAbsolute(pathOnNode)).Reverse());
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == "..")
            {
                // every folder in `resolved` is real (links already followed), so the text parent is the real parent
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }
                continue;
            }
            resolved.Add(part);
            if (!followFinal && pending.Count == 0)
            {
                break;
            }
            var host = HostPath(resolved);
            if (Stat(host, pathOnNode, followSymlinks: false) is not { Kind: FileKind.Symlink })
            {
                continue; // a real folder or file, or missing: nothing more to follow here
            }
            if (++links > MaxSymlinks)
            {
                throw new PkiException(
                    $"{Describe(pathOnNode)}: more than {MaxSymlinks} symbolic links on the way (a loop?); fix the links under {HostDirectory}");
            }
            var target = ReadLink(host, pathOnNode);
            resolved.RemoveAt(resolved.Count - 1);
            if (target.StartsWith('/'))
            {
                resolved.Clear(); // an absolute target starts again at the node's root, never the host's
            }
            foreach (var targetPart in NodePath.Components(target).Reverse())
            {
                pending.Push(targetPart);
            }
        }
        return HostPath(resolved);
    }

    /// <summary>lstat/stat of a host path, failures as PkiException naming the node path.</summary>
    internal FileStatus? Stat(string hostPath, string pathOnNode, bool followSymlinks)
    {
        try
        {
            return FileOwnership.Read(hostPath, followSymlinks);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PkiException($"{Describe(pathOnNode)}: permission denied on the way to the file; run as root", e);
        }
        catch (IOException e)
        {
            throw new PkiException($"{Describe(pathOnNode)}: {e.Message}", e);
        }
    }

    private string ReadLink(string hostPath, string pathOnNode)
    {
        try
        {
            return new FileInfo(hostPath).LinkTarget
                ?? throw new PkiException($"{Describe(pathOnNode)}: a symbolic link changed while it was read; run again");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{Describe(pathOnNode)}: could not read the symbolic link ({e.Message})", e);
        }
    }

    private string HostPath(List<string> parts)
    {
        if (parts.Count == 0)
        {
            return HostDirectory;
        }
        var relative = string.Join('/', parts);
        return HostDirectory == "/" ? "/" + relative : HostDirectory + "/" + relative;
    }

    private PkiException TooLarge(string pathOnNode, long sizeBytes, long maxBytes) =>
        new($"{Describe(pathOnNode)}: {sizeBytes} bytes, more than the {maxBytes} expected; point to the right file");

    /// <summary>The node path for the operator, with the root when it is not "/" so a test or demo run is clear.</summary>
    internal string Describe(string pathOnNode) =>
        HostDirectory == "/" ? pathOnNode : $"{pathOnNode} (under {HostDirectory})";
}
