namespace CertFleet.Pki.Files;

internal enum FileKind
{
    Regular,
    Directory,
    Symlink,
    Other,
}

/// <summary>What a file's inode says: its kind, owner and permission bits (setuid/setgid/sticky included).</summary>
internal readonly record struct FileStatus(FileKind Kind, uint Uid, uint Gid, UnixFileMode Permissions, long SizeBytes);
