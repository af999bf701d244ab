using System.Globalization;

namespace CertFleet.Pki.Authorities;

/// <summary>
/// What the modes of a CA key file (and its passphrase file) may be. A key or folder other users may write lets them
/// put their own key (or a link to it) in its place: refused, the coordinator does not start. A key other users may
/// read is refused by ssh, but the guides' own layouts leave CA keys 0644 (kubeasz's copy tasks, OpenSSL 1.0.2's
/// genrsa under umask 022), and an operator bringing a down cluster back must not be stopped by it: warned at every
/// start, with the command that fixes it.
/// </summary>
public static class SecretFileMode
{
    private const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
    private const UnixFileMode OthersRead = UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Why <paramref name="path"/> (given as <paramref name="option"/>) must not be used, or null.</summary>
    public static string? Refusal(string path, string option)
    {
        if (!File.Exists(path))
        {
            return null; // the reader names a missing file
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & OthersWrite) != 0)
        {
            return $"{option} {path}: mode {Octal(mode)} lets other users replace it; run `chmod 600 {path}` "
                + "(and chown it to the user certfleet-coordinator runs as)";
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && Directory.Exists(folder))
        {
            var folderMode = File.GetUnixFileMode(folder);
            // a sticky folder (/tmp) lets only a file's owner rename or remove it
            if ((folderMode & OthersWrite) != 0 && (folderMode & UnixFileMode.StickyBit) == 0)
            {
                return $"{option} {path}: its folder {folder} (mode {Octal(folderMode)}) lets other users put another file in its place; "
                    + $"run `chmod go-w {folder}` or keep the file in a folder only root may write";
            }
        }
        return null;
    }

    /// <summary>A warning for a file other users may read, or null.</summary>
    public static string? Warning(string path, string option)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var mode = File.GetUnixFileMode(path);
        return (mode & OthersRead) == 0
            ? null
            : $"{option} {path}: mode {Octal(mode)} lets other users on this machine read it (and sign as the CA); run `chmod 600 {path}`";
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xfff, 8).PadLeft(4, '0').ToString(CultureInfo.InvariantCulture);
}
