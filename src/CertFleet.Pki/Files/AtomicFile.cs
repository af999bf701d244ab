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
        try
        {
            File.Delete(hostPath);
            FileOwnership.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(hostPath))!);
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
        var path = Path.GetFullPath(hostPath);
        if (Status(path) is not null)
        {
            throw new PkiException($"{path}: already exists; a new file is never written over another, nothing was changed");
        }
        return Prepare(path, content, template, withFaultPoints: true, createsNew: true);
    }

    /// <summary>
    /// A symlink holding <paramref name="target"/> as given (a node path, never resolved on the host), to replace the
    /// link at <paramref name="hostPath"/> or to be made there: the temporary link is made beside it with
    /// <paramref name="owner"/>'s owner and the folder flushed, so after <see cref="PreparedFile.Rename"/> a crash
    /// leaves the old link or the new one, never none. Anything there but a symlink is refused.
    /// </summary>
    internal static PreparedFile PrepareSymlink(string hostPath, string target, FileStatus? owner, bool withFaultPoints)
    {
        var (path, folder, name) = Split(hostPath);
        if (Status(path) is { Kind: not FileKind.Symlink })
        {
            throw new PkiException($"{path}: not a symbolic link; a link is only ever put in the place of a link, nothing was changed");
        }
        var temporary = TemporaryPath(folder, name);
        try
        {
            File.CreateSymbolicLink(temporary, target);
            if (owner is { } old)
            {
                FileOwnership.SetSymlinkOwner(temporary, old.Uid, old.Gid);
            }
            // a link has no content of its own to flush: its folder entry is what must be on disk before the rename
            FileOwnership.SyncDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new PkiException($"{path}: could not make the new symbolic link ({e.Message}); the old one is unchanged. {Advice(e)}", e);
        }
        if (withFaultPoints)
        {
            FaultPoints.Reached(FaultPoints.AtomicWriteAfterTempWritten);
        }
        return new PreparedFile(path, temporary, withFaultPoints);
    }

    private static PreparedFile Prepare(string hostPath, ReadOnlySpan<byte> content, FileStatus? template, bool withFaultPoints, bool createsNew = false)
    {
        var (path, folder, name) = Split(hostPath);
        var owner = template ?? Existing(path);
        var temporary = TemporaryPath(folder, name);
        try
        {
            WriteTemporary(temporary, content, owner);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the filter runs before any unwinding, so a simulated crash (another exception type) leaves the temporary
            TryDelete(temporary);
            throw new PkiException($"{path}: could not write the new file ({e.Message}); the original is unchanged. {Advice(e)}", e);
        }
        if (withFaultPoints)
        {
            FaultPoints.Reached(FaultPoints.AtomicWriteAfterTempWritten);
        }
        return new PreparedFile(path, temporary, withFaultPoints, createsNew);
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

    private static string TemporaryPath(string folder, string name) =>
        Path.Combine(folder, $".{name}{TemporaryMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");

    internal static void RenameIntoPlace(PreparedFile prepared)
    {
        var path = prepared.HostPath;
        try
        {
            if (prepared.CreatesNew)
            {
                FileOwnership.LinkNew(prepared.TemporaryPath, path);
            }
            else
            {
                FileOwnership.Rename(prepared.TemporaryPath, path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(prepared.TemporaryPath);
            var unchanged = prepared.CreatesNew ? "nothing was replaced" : "the original is unchanged";
            throw new PkiException($"{path}: could not write the new file ({e.Message}); {unchanged}. {Advice(e)}", e);
        }
        if (prepared.CreatesNew)
        {
            // the file is complete under its new name; the temporary name is only a second name for it now, and a
            // crash before it goes leaves a temporary that RemoveStaleTemporaries deletes
            TryDelete(prepared.TemporaryPath);
        }
        if (prepared.WithFaultPoints)
        {
            FaultPoints.Reached(FaultPoints.AtomicWriteAfterRename);
        }
        try
        {
            FileOwnership.SyncDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: the new file is in place but the folder could not be flushed to disk ({e.Message}); check the disk", e);
        }
    }

    internal static void Discard(PreparedFile prepared) => TryDelete(prepared.TemporaryPath);

    private static void WriteTemporary(string temporary, ReadOnlySpan<byte> content, FileStatus? owner)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(FileOwnership.LinuxOnly);
        }
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            UnixCreateMode = NewFileMode, // never readable by others, even for the moment before the mode is set
        };
        using var stream = new FileStream(temporary, options);
        stream.Write(content);
        if (owner is { } old)
        {
            // owner before mode: chown clears setuid/setgid bits
            FileOwnership.SetOwner(stream.SafeFileHandle, old.Uid, old.Gid, temporary);
        }
        File.SetUnixFileMode(stream.SafeFileHandle, owner?.Permissions ?? NewFileMode);
        stream.Flush(flushToDisk: true);
    }

    private static FileStatus? Status(string path)
    {
        try
        {
            return FileOwnership.Read(path, followSymlinks: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: could not read the file's owner and mode ({e.Message}); the original is unchanged", e);
        }
    }

    private static FileStatus? Existing(string path)
    {
        var status = Status(path);
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

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // RemoveStaleTemporaries picks it up later; the original error is what the operator needs
        }
    }
}
