using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CertFleet.Pki.Files;

/// <summary>
/// Owner, mode and durability calls on host paths. Failures come back as the exceptions .NET itself uses
/// (UnauthorizedAccessException for EACCES/EPERM, IOException otherwise) so callers handle one family.
/// </summary>
internal static class FileOwnership
{
    internal const string LinuxOnly = "CertFleet manages the files of Linux nodes only";
    private const int TypeMask = 0xF000;
    private const int TypeRegular = 0x8000;
    private const int TypeDirectory = 0x4000;
    private const int TypeSymlink = 0xA000;

    /// <summary>The status of a path, or null when it (or a folder on the way) does not exist.</summary>
    public static FileStatus? Read(string hostPath, bool followSymlinks) => Read(LibC.AtFdCwd, hostPath, hostPath, followSymlinks);

    /// <summary>
    /// The status of <paramref name="name"/> relative to an open folder (<paramref name="directoryFd"/>; "" for the
    /// folder itself), or null when it does not exist; <paramref name="hostPath"/> names it in errors.
    /// </summary>
    public static unsafe FileStatus? Read(int directoryFd, string name, string hostPath, bool followSymlinks)
    {
        LibC.StatxBuffer buffer;
        var flags = (followSymlinks ? 0 : LibC.AtSymlinkNoFollow) | (name.Length == 0 ? LibC.AtEmptyPath : 0);
        if (LibC.Statx(directoryFd, name, flags, LibC.StatxBasicStats, &buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is LibC.ENOENT or LibC.ENOTDIR)
            {
                return null;
            }
            throw Failure(hostPath, errno);
        }
        var kind = (buffer.Mode & TypeMask) switch
        {
            TypeRegular => FileKind.Regular,
            TypeDirectory => FileKind.Directory,
            TypeSymlink => FileKind.Symlink,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, buffer.Uid, buffer.Gid, (UnixFileMode)(buffer.Mode & 0xFFF), (long)buffer.Size);
    }

    public static void SetOwner(SafeFileHandle file, uint uid, uint gid, string hostPathForMessages)
    {
        if (LibC.FChown(file, uid, gid) != 0)
        {
            throw Failure(hostPathForMessages, Marshal.GetLastPInvokeError(), $"setting owner {uid}:{gid}");
        }
    }

    /// <summary>mkdir(2) with the given mode; false when the path already exists (so a caller can pick another name).</summary>
    public static bool TryCreateDirectory(string hostPath, UnixFileMode mode)
    {
        if (LibC.MkDir(hostPath, (uint)mode) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EEXIST)
            {
                return false;
            }
            throw Failure(hostPath, errno, "creating the folder");
        }
        // the umask may have taken bits away; say exactly what we mean
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(LinuxOnly);
        }
        File.SetUnixFileMode(hostPath, mode);
        return true;
    }

    /// <summary>Creates a folder and any missing parents with the given mode; existing ones are left as they are.</summary>
    public static void CreateDirectories(string hostPath, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(LinuxOnly);
        }
        Directory.CreateDirectory(hostPath, mode);
    }

    internal static Exception Failure(string hostPath, int errno, string? doing = null)
    {
        var reason = Marshal.GetPInvokeErrorMessage(errno);
        var message = doing is null ? $"{hostPath}: {reason}" : $"{hostPath}: {doing}: {reason}";
        return errno is LibC.EACCES or LibC.EPERM
            ? new UnauthorizedAccessException(message)
            : new IOException(message);
    }
}
