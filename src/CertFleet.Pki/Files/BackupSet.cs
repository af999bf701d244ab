using System.Globalization;

namespace CertFleet.Pki.Files;

/// <summary>
/// One backup taken before an install: a folder under /var/lib/certfleet/backups named by the UTC time, holding
/// each saved file at its node path with its owner and mode, so a rollback puts back exactly what was there.
/// </summary>
public sealed class BackupSet
{
    public const string BackupsDirectoryOnNode = "/var/lib/certfleet/backups";

    private const long MaxFileBytes = 64L * 1024 * 1024; // certificates, keys and kubeconfigs are kilobytes
    private const int MaxSetsPerSecond = 1000;
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly NodeRoot _root;
    private readonly List<string> _saved;

    private BackupSet(NodeRoot root, string hostDirectory, List<string> saved)
    {
        _root = root;
        HostDirectory = hostDirectory;
        NodeDirectory = root.ToNodePath(hostDirectory);
        _saved = saved;
    }

    public string HostDirectory { get; }

    /// <summary>The folder as the node sees it, e.g. /var/lib/certfleet/backups/20261128T170000Z.</summary>
    public string NodeDirectory { get; }

    /// <summary>Node paths saved so far (resolved: a symlink is saved as the file it points to).</summary>
    public IReadOnlyList<string> SavedPaths => _saved;

    /// <summary>A new, empty set (folder mode 0700: it holds private keys); never shares a folder with another set.</summary>
    public static BackupSet Create(NodeRoot root, DateTimeOffset now)
    {
        var parent = root.Resolve(BackupsDirectoryOnNode);
        var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        try
        {
            FileOwnership.CreateDirectories(parent, PrivateFolder);
            for (var n = 1; n <= MaxSetsPerSecond; n++)
            {
                var host = Path.Combine(parent, n == 1 ? stamp : $"{stamp}-{n}");
                if (FileOwnership.TryCreateDirectory(host, PrivateFolder))
                {
                    return new BackupSet(root, host, []);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{root.Describe(BackupsDirectoryOnNode)}: could not create a backup folder ({e.Message}); check space and permissions, nothing was changed", e);
        }
        throw new PkiException($"{root.Describe(BackupsDirectoryOnNode)}: {MaxSetsPerSecond} backup sets already exist for {stamp}; remove old ones");
    }

    /// <summary>An existing set, e.g. after a restart, to restore from; its files are the saved paths.</summary>
    public static BackupSet Open(NodeRoot root, string nodeDirectory)
    {
        var host = root.Resolve(nodeDirectory);
        if (!Directory.Exists(host))
        {
            throw new PkiException($"{root.Describe(nodeDirectory)}: no such backup folder; list {BackupsDirectoryOnNode} for the sets there are");
        }
        var saved = Directory.EnumerateFiles(host, "*", SearchOption.AllDirectories)
            .Where(file => !AtomicFile.IsTemporary(Path.GetFileName(file)))
            .Select(file => file[host.Length..])
            .Order(StringComparer.Ordinal)
            .ToList();
        return new BackupSet(root, host, saved);
    }

    /// <summary>Copies a file with its owner and mode into the set and flushes it; a path already saved is left as saved.</summary>
    public void Save(string pathOnNode)
    {
        var host = _root.Resolve(pathOnNode);
        var resolved = _root.ToNodePath(host);
        if (_saved.Contains(resolved, StringComparer.Ordinal))
        {
            return; // the first copy is the one from before the install; never overwrite it
        }
        var status = Status(host, pathOnNode);
        var content = _root.ReadAllBytes(resolved, MaxFileBytes)
            ?? throw new PkiException($"{_root.Describe(pathOnNode)}: disappeared while it was backed up; run again");
        var copy = MirrorPath(resolved);
        try
        {
            FileOwnership.CreateDirectories(Path.GetDirectoryName(copy)!, PrivateFolder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{copy}: could not create the backup folder ({e.Message}); check space and permissions", e);
        }
        AtomicFile.Write(copy, content, status, withFaultPoints: false);
        _saved.Add(resolved);
        FaultPoints.Reached(FaultPoints.BackupAfterSave);
    }

    /// <summary>
    /// Removes the set, for a set whose install changed no file (its copies equal the files on the node); a failure
    /// to remove is left for the operator to see in the folder, not thrown over the error that led here.
    /// </summary>
    public void Delete() => Remove(HostDirectory);

    /// <summary><see cref="Delete"/> for a set known by name, e.g. one an interrupted install began; a missing folder is fine.</summary>
    public static void Remove(NodeRoot root, string nodeDirectory)
    {
        ArgumentNullException.ThrowIfNull(root);
        Remove(root.Resolve(nodeDirectory));
    }

    /// <summary>Whether the set's folder is on the node.</summary>
    public static bool Exists(NodeRoot root, string nodeDirectory)
    {
        ArgumentNullException.ThrowIfNull(root);
        return Directory.Exists(root.Resolve(nodeDirectory));
    }

    private static void Remove(string hostDirectory)
    {
        try
        {
            if (Directory.Exists(hostDirectory))
            {
                Directory.Delete(hostDirectory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the folder stays; it only holds copies of unchanged files
        }
    }

    /// <summary>
    /// Puts every saved file back (atomically each, with its saved owner and mode). Tries them all, then reports
    /// every one that failed; the backup itself is never changed.
    /// </summary>
    public void RestoreAll()
    {
        var failures = new List<string>();
        foreach (var pathOnNode in _saved)
        {
            try
            {
                var copy = MirrorPath(pathOnNode);
                var status = FileOwnership.Read(copy, followSymlinks: false)
                    ?? throw new PkiException($"{copy}: the backup copy of {pathOnNode} is missing");
                var target = _root.ResolveNoFollow(pathOnNode);
                var content = File.ReadAllBytes(copy);
                // a file the install never got to is left alone: rewriting it could only fail (the cause of the
                // failed install may be that very file) and hide the files that really needed restoring
                if (!IsAlready(target, content, status))
                {
                    AtomicFile.Write(target, content, status, withFaultPoints: true);
                }
            }
            catch (PkiException e)
            {
                failures.Add(e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{pathOnNode}: {e.Message}");
            }
        }
        if (failures.Count > 0)
        {
            throw new PkiException(
                $"restoring from {_root.Describe(NodeDirectory)} failed for {failures.Count} of {_saved.Count} files; the backup is unchanged, fix the cause and restore again:{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", failures));
        }
    }

    private static bool IsAlready(string target, byte[] content, FileStatus saved)
    {
        var current = FileOwnership.Read(target, followSymlinks: false);
        return current is { Kind: FileKind.Regular } now
            && now.Uid == saved.Uid && now.Gid == saved.Gid && now.Permissions == saved.Permissions
            && File.ReadAllBytes(target).AsSpan().SequenceEqual(content);
    }

    private string MirrorPath(string resolvedNodePath) => HostDirectory + resolvedNodePath;

    private FileStatus Status(string host, string pathOnNode)
    {
        FileStatus? status;
        try
        {
            status = FileOwnership.Read(host, followSymlinks: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{_root.Describe(pathOnNode)}: could not read owner and mode ({e.Message})", e);
        }
        return status switch
        {
            null => throw new PkiException($"{_root.Describe(pathOnNode)}: does not exist, nothing to back up; check the path"),
            { Kind: not FileKind.Regular } => throw new PkiException($"{_root.Describe(pathOnNode)}: not a regular file, cannot back it up"),
            { } found => found,
        };
    }
}
