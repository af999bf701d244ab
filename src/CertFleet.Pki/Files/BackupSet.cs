using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CertFleet.Pki.Files;

/// <summary>
/// One backup taken before an install: a folder under /var/lib/certfleet/backups named by the UTC time, holding
/// each saved file (or symlink, as a symlink) at its node path with its owner and mode, and a record of each file the
/// install creates, so a rollback puts back exactly what was there and takes away what was not.
/// </summary>
public sealed class BackupSet
{
    public const string BackupsDirectoryOnNode = "/var/lib/certfleet/backups";

    private const long MaxFileBytes = 64L * 1024 * 1024; // certificates, keys and kubeconfigs are kilobytes
    private const int MaxSetsPerSecond = 1000;
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // beside the mirrored node paths: the SHA-256 of each new file at its node path below this folder (a node path
    // starting with it is refused, so it can never be mistaken for a saved file)
    private const string NewFilesFolder = "/.certfleet-new-files";

    private readonly NodeRoot _root;
    private readonly List<string> _saved;
    private readonly List<string> _newFiles;

    private BackupSet(NodeRoot root, string hostDirectory, List<string> saved, List<string> newFiles)
    {
        _root = root;
        HostDirectory = hostDirectory;
        NodeDirectory = root.ToNodePath(hostDirectory);
        _saved = saved;
        _newFiles = newFiles;
    }

    public string HostDirectory { get; }

    /// <summary>The folder as the node sees it, e.g. /var/lib/certfleet/backups/20261128T170000Z.</summary>
    public string NodeDirectory { get; }

    /// <summary>
    /// Node paths saved so far, folders resolved: <see cref="Save"/> saves the file a symlink points to under that file's
    /// path, <see cref="SaveLink"/> the link itself under its own.
    /// </summary>
    public IReadOnlyList<string> SavedPaths => _saved;

    /// <summary>Node paths of the files the install creates (<see cref="RecordNewFile"/>); a rollback deletes them.</summary>
    public IReadOnlyList<string> NewFiles => _newFiles;

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
                    return new BackupSet(root, host, [], []);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{root.Describe(BackupsDirectoryOnNode)}: could not create a backup folder ({e.Message}); check space and permissions, nothing was changed", e);
        }
        throw new PkiException($"{root.Describe(BackupsDirectoryOnNode)}: {MaxSetsPerSecond} backup sets already exist for {stamp}; remove old ones");
    }

    /// <summary>An existing set, e.g. after a restart, to restore from; its files and links are the saved paths.</summary>
    public static BackupSet Open(NodeRoot root, string nodeDirectory)
    {
        ArgumentNullException.ThrowIfNull(root);
        var host = root.Resolve(nodeDirectory);
        if (!Directory.Exists(host))
        {
            throw new PkiException($"{root.Describe(nodeDirectory)}: no such backup folder; list {BackupsDirectoryOnNode} for the sets there are");
        }
        var found = new List<string>();
        try
        {
            Collect(host, "", found);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{root.Describe(nodeDirectory)}: could not list the backup ({e.Message}); check the folder's permissions", e);
        }
        found.Sort(StringComparer.Ordinal);
        var newFiles = found.Where(IsReserved).Select(p => p[NewFilesFolder.Length..]).ToList();
        return new BackupSet(root, host, found.Where(p => !IsReserved(p)).ToList(), newFiles);
    }

    // by lstat, so a saved symlink is listed as itself and never followed, whatever its target names on this host
    private static void Collect(string hostFolder, string nodeFolder, List<string> found)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(hostFolder))
        {
            var name = Path.GetFileName(entry);
            switch (FileOwnership.Read(entry, followSymlinks: false))
            {
                case { Kind: FileKind.Directory }:
                    Collect(entry, $"{nodeFolder}/{name}", found);
                    break;
                case { Kind: FileKind.Regular or FileKind.Symlink } when !AtomicFile.IsTemporary(name):
                    found.Add($"{nodeFolder}/{name}");
                    break;
            }
        }
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
        var status = Status(host, pathOnNode, FileKind.Regular);
        var content = _root.ReadAllBytes(resolved, MaxFileBytes)
            ?? throw new PkiException($"{_root.Describe(pathOnNode)}: disappeared while it was backed up; run again");
        var copy = MirrorPath(resolved);
        CreateParent(copy);
        AtomicFile.Write(copy, content, status, withFaultPoints: false);
        _saved.Add(resolved);
        FaultPoints.Reached(FaultPoints.BackupAfterSave);
    }

    /// <summary>
    /// Saves a symlink itself, not the file it leads to: the copy is a symlink with the same target text and owner,
    /// so a rollback can move a link back (the kubelet's -current.pem an install moved). A path already saved is left.
    /// </summary>
    public void SaveLink(string linkOnNode)
    {
        var host = _root.ResolveNoFollow(linkOnNode);
        var resolved = _root.ToNodePath(host);
        if (_saved.Contains(resolved, StringComparer.Ordinal))
        {
            return;
        }
        var status = Status(host, linkOnNode, FileKind.Symlink);
        var target = LinkTarget(host, linkOnNode);
        var copy = MirrorPath(resolved);
        CreateParent(copy);
        AtomicFile.PrepareSymlink(copy, target, status, withFaultPoints: false).Rename();
        _saved.Add(resolved);
        FaultPoints.Reached(FaultPoints.BackupAfterSave);
    }

    /// <summary>
    /// Records, before the install makes it, a file that does not exist yet: a rollback deletes it again, but only
    /// while it holds exactly <paramref name="content"/>, so nothing anyone else wrote under that name is ever lost.
    /// </summary>
    public void RecordNewFile(string pathOnNode, ReadOnlySpan<byte> content)
    {
        var host = _root.ResolveNoFollow(pathOnNode);
        var resolved = _root.ToNodePath(host);
        if (_newFiles.Contains(resolved, StringComparer.Ordinal))
        {
            return;
        }
        if (_root.Stat(host, pathOnNode, followSymlinks: false) is not null)
        {
            throw new PkiException($"{_root.Describe(pathOnNode)}: already exists, so it is not a new file; nothing was changed");
        }
        var marker = MirrorPath(NewFilesFolder + resolved);
        CreateParent(marker);
        AtomicFile.Write(marker, Encoding.ASCII.GetBytes(Fingerprint(content) + "\n"), template: null, withFaultPoints: false);
        _newFiles.Add(resolved);
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
    /// Puts every saved file and link back (atomically each, with its saved owner and mode; a link is re-made as a
    /// link, never followed), then deletes the files the install created. Tries them all, then reports every one
    /// that failed; the backup itself is never changed, so restoring again after a crash or a fix is safe.
    /// </summary>
    public void RestoreAll()
    {
        var failures = new List<string>();
        foreach (var pathOnNode in _saved)
        {
            Try(pathOnNode, failures, () =>
            {
                var copy = MirrorPath(pathOnNode);
                var status = FileOwnership.Read(copy, followSymlinks: false)
                    ?? throw new PkiException($"{copy}: the backup copy of {pathOnNode} is missing");
                var target = _root.ResolveNoFollow(pathOnNode);
                if (status.Kind == FileKind.Symlink)
                {
                    RestoreLink(copy, target, status, pathOnNode);
                    return;
                }
                var content = File.ReadAllBytes(copy);
                // a file the install never got to is left alone: rewriting it could only fail (the cause of the
                // failed install may be that very file) and hide the files that really needed restoring
                if (!IsAlready(target, content, status))
                {
                    AtomicFile.Write(target, content, status, withFaultPoints: true);
                }
            });
        }
        // Only once every link leads back to its old file: deleting a new file while a link may still lead to it would
        // leave that link dangling. A crash between the two leaves the new file beside the restored link, which the
        // next restore deletes (and the scanner meanwhile reports as kubelet history no link leads to).
        if (failures.Count == 0)
        {
            foreach (var pathOnNode in _newFiles)
            {
                Try(pathOnNode, failures, () => RemoveNewFile(pathOnNode));
            }
        }
        if (failures.Count > 0)
        {
            throw new PkiException(
                $"restoring from {_root.Describe(NodeDirectory)} failed for {failures.Count} of {_saved.Count + _newFiles.Count} files; the backup is unchanged, fix the cause and restore again:{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", failures));
        }
    }

    private static void Try(string pathOnNode, List<string> failures, Action restore)
    {
        try
        {
            restore();
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

    private void RestoreLink(string copy, string target, FileStatus saved, string pathOnNode)
    {
        var text = LinkTarget(copy, pathOnNode);
        if (FileOwnership.Read(target, followSymlinks: false) is { Kind: FileKind.Symlink } now
            && now.Uid == saved.Uid && now.Gid == saved.Gid
            && new FileInfo(target).LinkTarget == text)
        {
            return;
        }
        AtomicFile.PrepareSymlink(target, text, saved, withFaultPoints: true).Rename();
    }

    private void RemoveNewFile(string pathOnNode)
    {
        var host = _root.ResolveNoFollow(pathOnNode);
        var written = File.ReadAllText(MirrorPath(NewFilesFolder + pathOnNode)).Trim();
        if (FileOwnership.Read(host, followSymlinks: false) is not { Kind: FileKind.Regular, SizeBytes: <= MaxFileBytes })
        {
            return; // never made (the install stopped before), or already deleted by an earlier restore
        }
        if (Fingerprint(File.ReadAllBytes(host)) == written)
        {
            AtomicFile.Delete(host);
        }
        // else someone wrote another file under that name since: it is theirs and stays
    }

    private static bool IsAlready(string target, byte[] content, FileStatus saved)
    {
        var current = FileOwnership.Read(target, followSymlinks: false);
        return current is { Kind: FileKind.Regular } now
            && now.Uid == saved.Uid && now.Gid == saved.Gid && now.Permissions == saved.Permissions
            && File.ReadAllBytes(target).AsSpan().SequenceEqual(content);
    }

    private string MirrorPath(string resolvedNodePath) => HostDirectory + resolvedNodePath;

    private static bool IsReserved(string nodePath) => nodePath.StartsWith(NewFilesFolder + "/", StringComparison.Ordinal);

    private static string Fingerprint(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private static void CreateParent(string copy)
    {
        try
        {
            FileOwnership.CreateDirectories(Path.GetDirectoryName(copy)!, PrivateFolder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{copy}: could not create the backup folder ({e.Message}); check space and permissions", e);
        }
    }

    private string LinkTarget(string host, string pathOnNode)
    {
        try
        {
            return new FileInfo(host).LinkTarget
                ?? throw new PkiException($"{_root.Describe(pathOnNode)}: is no longer a symbolic link; run again");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{_root.Describe(pathOnNode)}: could not read the symbolic link ({e.Message})", e);
        }
    }

    private FileStatus Status(string host, string pathOnNode, FileKind kind)
    {
        if (IsReserved(_root.ToNodePath(host)))
        {
            throw new PkiException($"{_root.Describe(pathOnNode)}: certfleet keeps its own records under {NewFilesFolder} in a backup; such a path cannot be backed up");
        }
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
            { Kind: var other } when other != kind => throw new PkiException(kind == FileKind.Symlink
                ? $"{_root.Describe(pathOnNode)}: not a symbolic link any more; run again"
                : $"{_root.Describe(pathOnNode)}: not a regular file, cannot back it up"),
            { } found => found,
        };
    }
}
