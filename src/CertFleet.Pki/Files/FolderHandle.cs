using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CertFleet.Pki.Files;

/// <summary>
/// An open folder that every write of a file goes through (openat-style): the temporary is created, renamed, linked
/// and flushed relative to this handle, never by path, so a folder on the way swapped for a symbolic link after it was
/// opened changes nothing. It is reached by a walk from "/" that opens each folder without following links and
/// follows a link only where nobody but root (or the user CertFleet runs as) could have put it: a user who may change
/// a folder on the way (their home, a group-writable folder) cannot send a root-run write into a folder of their choosing.
/// </summary>
internal sealed class FolderHandle : SafeHandle
{
    private const int MaxSymlinks = 40; // as the kernel's own limit (ELOOP)
    private const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
    private static readonly uint Self = LibC.GetEUid();

    private FolderHandle(int fd, string hostPath)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
        HostPath = hostPath;
    }

    /// <summary>The folder's host path as the walk found it (links followed), for messages.</summary>
    public string HostPath { get; }

    public override bool IsInvalid => handle == new IntPtr(-1);

    private int Fd => (int)handle;

    /// <summary>
    /// Opens <paramref name="hostFolder"/>. Throws a <see cref="PkiException"/> naming the link when the way there goes
    /// through a symbolic link another user could have made or swapped in, and an <see cref="IOException"/> (as .NET's
    /// own calls do) when a folder is missing or cannot be opened.
    /// </summary>
    public static FolderHandle Open(string hostFolder)
    {
        var pending = new List<string>(NodePath.Components(Path.GetFullPath(hostFolder)));
        var current = OpenRoot();
        var links = 0;
        try
        {
            while (pending.Count > 0)
            {
                var name = pending[0];
                pending.RemoveAt(0);
                var next = current.Step(name, pending, ref links);
                if (!ReferenceEquals(next, current))
                {
                    current.Dispose();
                    current = next;
                }
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>The status of an entry of this folder, not following a link; null when there is none.</summary>
    public unsafe FileStatus? Stat(string name) => FileOwnership.Read(Fd, name, Path.Combine(HostPath, name), followSymlinks: false);

    /// <summary>A new file (never an existing one, never through a link) in this folder, open for writing.</summary>
    public SafeFileHandle CreateNew(string name, UnixFileMode mode)
    {
        var fd = LibC.OpenAt(Fd, name, LibC.OWrOnly | LibC.OCreat | LibC.OExcl | LibC.ONoFollow | LibC.OCloExec, (uint)mode);
        if (fd < 0)
        {
            throw FileOwnership.Failure(Path.Combine(HostPath, name), Marshal.GetLastPInvokeError(), "creating the temporary file");
        }
        return new SafeFileHandle(new IntPtr(fd), ownsHandle: true);
    }

    /// <summary>renameat(2): atomic replacement of <paramref name="to"/> by <paramref name="from"/>, both in this folder.</summary>
    public void Rename(string from, string to) =>
        Check(LibC.RenameAt(Fd, from, Fd, to), to, "renaming the new file into place");

    /// <summary>linkat(2): a second name for a file of this folder, failing when that name exists (so nothing is replaced).</summary>
    public void LinkNew(string existing, string name) =>
        Check(LibC.LinkAt(Fd, existing, Fd, name, 0), name, "putting the new file in place without replacing anything");

    /// <summary>symlinkat(2) and the link's own owner (a chown through the link would give its target).</summary>
    public void CreateSymlink(string target, string name, FileStatus? owner)
    {
        Check(LibC.SymlinkAt(target, Fd, name), name, "making the symbolic link");
        if (owner is { } old)
        {
            Check(LibC.FChownAt(Fd, name, old.Uid, old.Gid, LibC.AtSymlinkNoFollow), name, $"setting the link's owner {old.Uid}:{old.Gid}");
        }
    }

    /// <summary>unlinkat(2) of a file or link in this folder; false when it was not there.</summary>
    public bool Delete(string name)
    {
        if (LibC.UnlinkAt(Fd, name, 0) == 0)
        {
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == LibC.ENOENT ? false : throw FileOwnership.Failure(Path.Combine(HostPath, name), errno, "deleting");
    }

    /// <summary>Makes this folder's entries (a rename, a new file, a deletion) durable.</summary>
    public void Sync() => Check(LibC.FSync(Fd), "", "flushing the folder to disk");

    protected override bool ReleaseHandle() => LibC.Close(Fd) == 0;

    private static FolderHandle OpenRoot()
    {
        var fd = LibC.OpenAt(LibC.AtFdCwd, "/", LibC.ORdOnly | LibC.ODirectory | LibC.OCloExec, 0);
        return fd < 0 ? throw FileOwnership.Failure("/", Marshal.GetLastPInvokeError(), "opening the folder") : new FolderHandle(fd, "/");
    }

    /// <summary>One component of the walk: the folder it opens, or (for a trusted link) this one with the link's target queued.</summary>
    private FolderHandle Step(string name, List<string> pending, ref int links)
    {
        var path = Path.Combine(HostPath, name);
        if (name == "..")
        {
            return OpenChild("..", Path.GetDirectoryName(HostPath) ?? "/");
        }
        switch (Stat(name))
        {
            case null:
                throw new DirectoryNotFoundException($"{path}: no such folder");
            case { Kind: FileKind.Directory }:
                return OpenChild(name, path);
            case { Kind: FileKind.Symlink } link:
                if (Untrusted(link) is { } who)
                {
                    throw new PkiException($"{path}: is a symbolic link that {who} could have put there, so nothing is written "
                        + "through it (it could be swapped to send this write anywhere); point --root or the file's path at the folder it "
                        + "names, or replace the link with that folder");
                }
                if (++links > MaxSymlinks)
                {
                    throw new IOException($"{path}: too many levels of symbolic links");
                }
                var target = ReadLink(name, path);
                pending.InsertRange(0, NodePath.Components(target));
                return target.StartsWith('/') ? OpenRoot() : this;
            default:
                throw new IOException($"{path}: not a folder");
        }
    }

    private FolderHandle OpenChild(string name, string path)
    {
        var fd = LibC.OpenAt(Fd, name, LibC.ORdOnly | LibC.ODirectory | LibC.ONoFollow | LibC.OCloExec, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // what was a folder a moment ago is a link now: someone is swapping it while CertFleet writes
            throw errno is LibC.ELOOP or LibC.ENOTDIR
                ? new PkiException($"{path}: was replaced by a link or a file while CertFleet opened it; nothing was written. Find out who changes it, then run again")
                : FileOwnership.Failure(path, errno, "opening the folder");
        }
        return new FolderHandle(fd, path);
    }

    /// <summary>Who other than root or this user could have put <paramref name="link"/> in this folder, or null.</summary>
    private string? Untrusted(FileStatus link)
    {
        if (!IsTrusted(link.Uid))
        {
            return $"user {link.Uid} (its owner)";
        }
        var folder = FileOwnership.Read(Fd, "", HostPath, followSymlinks: false)
            ?? throw new IOException($"{HostPath}: the folder went away while CertFleet opened it");
        if (!IsTrusted(folder.Uid))
        {
            return $"user {folder.Uid} (the owner of {HostPath})";
        }
        // in a sticky folder (/tmp) only an entry's owner may rename or remove it, and this link's owner is trusted
        var sticky = (folder.Permissions & UnixFileMode.StickyBit) != 0;
        return (folder.Permissions & OthersWrite) != 0 && !sticky ? $"another user (mode {Octal(folder.Permissions)} of {HostPath})" : null;
    }

    private static bool IsTrusted(uint uid) => uid == 0 || uid == Self;

    private string ReadLink(string name, string path)
    {
        var buffer = new byte[4096];
        var length = LibC.ReadLinkAt(Fd, name, buffer, buffer.Length);
        if (length < 0)
        {
            throw FileOwnership.Failure(path, Marshal.GetLastPInvokeError(), "reading the symbolic link");
        }
        return length >= buffer.Length
            ? throw new IOException($"{path}: the symbolic link's target is too long")
            : System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    private void Check(int result, string name, string doing)
    {
        if (result != 0)
        {
            throw FileOwnership.Failure(name.Length == 0 ? HostPath : Path.Combine(HostPath, name), Marshal.GetLastPInvokeError(), doing);
        }
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xfff, 8).PadLeft(4, '0');
}
