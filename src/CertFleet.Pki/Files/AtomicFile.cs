using System.Security.Cryptography;

namespace CertFleet.Pki.Files;

/// <summary>
/// Replaces files so that a crash at any moment leaves the old content or the new content in full: a temporary
/// file in the same folder is written and flushed, given the old file's owner and mode, renamed over the old one,
/// and the folder is flushed. New files that must not replace anything and symlinks go the same way.
/// </summary>
public static class AtomicFile
{
    private const string TemporaryMarker = ".certfleet-tmp-";
    private const UnixFileMode NewFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Replaces (or creates, mode 0600) the file at a host path; a symlink there is refused.</summary>
    public static void Replace(string hostPath, ReadOnlySpan<byte> content) =>
        Write(hostPath, content, template: null, withFaultPoints: true);

    /// <summary>Deletes a file (if there) and flushes its folder, so the deletion survives a power loss.</summary>
    public static void Delete(string hostPath)
    {
        var (path, _, name) = Split(hostPath);
        try
        {
            using var folder = FolderHandle.Open(Path.GetDirectoryName(path)!);
            if (folder.Delete(name))
            {
                folder.Sync();
            }
        }
        catch (DirectoryNotFoundException)
        {
            // no folder, no file
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{hostPath}: could not delete the file ({e.Message}). {Advice(e)}", e);
        }
    }

    /// <summary>Deletes the temporaries that crashed writes left in a folder (not its sub-folders); returns how many.</summary>
    public static int RemoveStaleTemporaries(string hostDirectory)
    {
        try
        {
            if (!Directory.Exists(hostDirectory))
            {
                return 0;
            }
            var removed = 0;
            foreach (var path in Directory.EnumerateFileSystemEntries(hostDirectory))
            {
                // a temporary symlink is deleted as a link (never what it points to); a folder is never ours
                if (IsTemporary(Path.GetFileName(path)) && FileOwnership.Read(path, followSymlinks: false) is { Kind: FileKind.Regular or FileKind.Symlink })
                {
                    File.Delete(path);
                    removed++;
                }
            }
            return removed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{hostDirectory}: could not remove leftover temporary files ({e.Message}); remove the '.*{TemporaryMarker}*' files by hand", e);
        }
    }

    /// <summary>True for a name made by <see cref="Replace"/> for its temporary: ".NAME.certfleet-tmp-HEX".</summary>
    public static bool IsTemporary(string fileName)
    {
        var name = Path.GetFileName(fileName);
        var marker = name.LastIndexOf(TemporaryMarker, StringComparison.Ordinal);
        if (name.Length == 0 || name[0] != '.' || marker < 2)
        {
            return false;
        }
        var suffix = name.AsSpan(marker + TemporaryMarker.Length);
        return !suffix.IsEmpty && !suffix.ContainsAnyExcept("0123456789abcdef");
    }

    /// <summary>
    /// The write itself. <paramref name="template"/> gives owner and mode explicitly (a backup copy, a restore);
    /// otherwise they come from the file being replaced.
    /// </summary>
    internal static void Write(string hostPath, ReadOnlySpan<byte> content, FileStatus? template, bool withFaultPoints) =>
        Prepare(hostPath, content, template, withFaultPoints).Rename();

    /// <summary>
    /// The first half of <see cref="Replace"/>: the temporary beside the file, complete, flushed, with the old file's
    /// owner and mode; the original untouched until <see cref="PreparedFile.Rename"/>. Writing every temporary of an
    /// install before renaming any means a full disk or a read-only folder fails while nothing has changed yet.
    /// </summary>
    public static PreparedFile Prepare(string hostPath, ReadOnlySpan<byte> content) =>
        Prepare(hostPath, content, template: null, withFaultPoints: true);

    /// <summary>
    /// A file that does not exist yet (the kubelet's next kubelet-client-&lt;date&gt;.pem), with the owner and mode of
    /// <paramref name="template"/>: its temporary written and flushed like any other, and put in place by
    /// <see cref="PreparedFile.Rename"/> only while the name is still free, so no file is ever replaced by it.
    /// </summary>
    internal static PreparedFile PrepareNew(string hostPath, ReadOnlySpan<byte> content, FileStatus template)
    {
        return Prepare(hostPath, content, template, withFaultPoints: true, createsNew: true);
    }

    /// <summary>
    /// A symlink holding <paramref name="target"/> as given (a node path, never resolved on the host), to replace the
    /// link at <paramref name="hostPath"/> or to be made there: the temporary link is made beside it with
    /// <paramref name="owner"/>'s owner and the folder flushed, so after <see cref="PreparedFile.Rename"/> a crash
    /// leaves the old link or the new one, never none. Anything there but a symlink is refused.
    /// </summary>
    internal static PreparedFile PrepareSymlink(string hostPath, string target, FileStatus? owner, bool withFaultPoints)
    {
        var (path, folderPath, name) = Split(hostPath);
        var folder = OpenFolder(folderPath, path);
        var temporary = TemporaryName(name);
        try
        {
            if (Status(folder, name, path) is { Kind: not FileKind.Symlink })
            {
                throw new PkiException($"{path}: not a symbolic link; a link is only ever put in the place of a link, nothing was changed");
            }
            folder.CreateSymlink(target, temporary, owner);
            // a link has no content of its own to flush: its folder entry is what must be on disk before the rename
            folder.Sync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(folder, temporary);
            folder.Dispose();
            throw new PkiException($"{path}: could not make the new symbolic link ({e.Message}); the old one is unchanged. {Advice(e)}", e);
        }
        catch (PkiException)
        {
            folder.Dispose();
            throw;
        }
        if (withFaultPoints)
        {
            FaultPoints.Reached(FaultPoints.AtomicWriteAfterTempWritten);
        }
        return new PreparedFile(path, folder, name, temporary, withFaultPoints);
    }

    private static PreparedFile Prepare(string hostPath, ReadOnlySpan<byte> content, FileStatus? template, bool withFaultPoints, bool createsNew = false)
    {
        var (path, folderPath, name) = Split(hostPath);
        var folder = OpenFolder(folderPath, path);
        var temporary = TemporaryName(name);
        try
        {
            var existing = Existing(folder, name, path);
            if (createsNew && existing is not null)
            {
                throw new PkiException($"{path}: already exists; a new file is never written over another, nothing was changed");
            }
            WriteTemporary(folder, temporary, content, template ?? existing);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the filter runs before any unwinding, so a simulated crash (another exception type) leaves the temporary
            TryDelete(folder, temporary);
            folder.Dispose();
            throw new PkiException($"{path}: could not write the new file ({e.Message}); the original is unchanged. {Advice(e)}", e);
        }
        catch (PkiException)
        {
            folder.Dispose();
            throw;
        }
        if (withFaultPoints)
        {
            FaultPoints.Reached(FaultPoints.AtomicWriteAfterTempWritten);
        }
        return new PreparedFile(path, folder, name, temporary, withFaultPoints, createsNew);
    }

    /// <summary>The folder a write goes through, opened once: see <see cref="FolderHandle"/> for why never by path.</summary>
    private static FolderHandle OpenFolder(string folder, string forPath)
    {
        try
        {
            return FolderHandle.Open(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{forPath}: could not open its folder ({e.Message}); nothing was changed. {Advice(e)}", e);
        }
        catch (PkiException e)
        {
            throw new PkiException($"{forPath}: not written: {e.Message}", e);
        }
    }

    private static (string Path, string Folder, string Name) Split(string hostPath)
    {
        var path = Path.GetFullPath(hostPath);
        var folder = Path.GetDirectoryName(path);
        var name = Path.GetFileName(path);
        if (folder is null || name.Length == 0)
        {
            throw new PkiException($"{hostPath}: names a folder, not a file; give the file's path");
        }
        return (path, folder, name);
    }

    private static string TemporaryName(string name) =>
        $".{name}{TemporaryMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";

    internal static void RenameIntoPlace(PreparedFile prepared)
    {
        var path = prepared.HostPath;
        var folder = prepared.Folder;
        try
        {
            if (prepared.CreatesNew)
            {
                folder.LinkNew(prepared.TemporaryName, prepared.Name);
            }
            else
            {
                folder.Rename(prepared.TemporaryName, prepared.Name);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(folder, prepared.TemporaryName);
            var unchanged = prepared.CreatesNew ? "nothing was replaced" : "the original is unchanged";
            throw new PkiException($"{path}: could not write the new file ({e.Message}); {unchanged}. {Advice(e)}", e);
        }
        if (prepared.CreatesNew)
        {
            // the file is complete under its new name; the temporary name is only a second name for it now, and a
            // crash before it goes leaves a temporary that RemoveStaleTemporaries deletes
            TryDelete(folder, prepared.TemporaryName);
        }
        if (prepared.WithFaultPoints)
        {
            FaultPoints.Reached(FaultPoints.AtomicWriteAfterRename);
        }
        try
        {
            folder.Sync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: the new file is in place but the folder could not be flushed to disk ({e.Message}); check the disk", e);
        }
    }

    internal static void Discard(PreparedFile prepared) => TryDelete(prepared.Folder, prepared.TemporaryName);

    private static void WriteTemporary(FolderHandle folder, string temporary, ReadOnlySpan<byte> content, FileStatus? owner)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(FileOwnership.LinuxOnly);
        }
        // never readable by others, even for the moment before the mode is set
        using var handle = folder.CreateNew(temporary, NewFileMode);
        using var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
        stream.Write(content);
        if (owner is { } old)
        {
            // owner before mode: chown clears setuid/setgid bits
            FileOwnership.SetOwner(handle, old.Uid, old.Gid, Path.Combine(folder.HostPath, temporary));
        }
        File.SetUnixFileMode(handle, owner?.Permissions ?? NewFileMode);
        stream.Flush(flushToDisk: true);
    }

    private static FileStatus? Status(FolderHandle folder, string name, string path)
    {
        try
        {
            return folder.Stat(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: could not read the file's owner and mode ({e.Message}); the original is unchanged", e);
        }
    }

    private static FileStatus? Existing(FolderHandle folder, string name, string path)
    {
        var status = Status(folder, name, path);
        return status switch
        {
            null or { Kind: FileKind.Regular } => status,
            { Kind: FileKind.Symlink } => throw new PkiException(
                $"{path}: is a symbolic link; replace the file it points to (resolve it under --root) so the link keeps working"),
            _ => throw new PkiException($"{path}: not a regular file; remove what is there or point to the right file"),
        };
    }

    private static string Advice(Exception e) => e switch
    {
        UnauthorizedAccessException => "Run as root, or make the folder writable (is the file system mounted read-only?).",
        DirectoryNotFoundException => "The folder does not exist; check the path.",
        _ when e.Message.Contains("space", StringComparison.OrdinalIgnoreCase) => "The disk is full; free space and run again.",
        _ when e.Message.Contains("read-only", StringComparison.OrdinalIgnoreCase) => "The file system is mounted read-only; remount it read-write.",
        _ => "Check the disk and the folder, then run again.",
    };

    private static void TryDelete(FolderHandle folder, string name)
    {
        try
        {
            folder.Delete(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // RemoveStaleTemporaries picks it up later; the original error is what the operator needs
        }
    }
}
