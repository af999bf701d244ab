using System.Security.Cryptography;

namespace CertFleet.Pki.Files;

/// <summary>
/// Replaces files so that a crash at any moment leaves the old content or the new content in full: a temporary
/// file in the same folder is written and flushed, given the old file's owner and mode, renamed over the old one,
/// and the folder is flushed.
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
            foreach (var path in Directory.EnumerateFiles(hostDirectory))
            {
                if (IsTemporary(Path.GetFileName(path)))
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

    private static PreparedFile Prepare(string hostPath, ReadOnlySpan<byte> content, FileStatus? template, bool withFaultPoints)
    {
        var path = Path.GetFullPath(hostPath);
        var folder = Path.GetDirectoryName(path);
        var name = Path.GetFileName(path);
        if (folder is null || name.Length == 0)
        {
            throw new PkiException($"{hostPath}: names a folder, not a file; give the file's path");
        }
        var existing = Existing(path);
        var owner = template ?? existing;
        var temporary = Path.Combine(folder, $".{name}{TemporaryMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
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
        return new PreparedFile(path, temporary, withFaultPoints);
    }

    internal static void RenameIntoPlace(PreparedFile prepared)
    {
        var path = prepared.HostPath;
        try
        {
            FileOwnership.Rename(prepared.TemporaryPath, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(prepared.TemporaryPath);
            throw new PkiException($"{path}: could not write the new file ({e.Message}); the original is unchanged. {Advice(e)}", e);
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

    private static FileStatus? Existing(string path)
    {
        FileStatus? status;
        try
        {
            status = FileOwnership.Read(path, followSymlinks: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: could not read the file's owner and mode ({e.Message}); the original is unchanged", e);
        }
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
