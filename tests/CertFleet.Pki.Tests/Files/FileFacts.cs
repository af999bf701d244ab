using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Files;

/// <summary>What `stat` (the oracle, not our own statx) says about a file: octal mode, uid, gid, type.</summary>
internal sealed record FileFacts(string Mode, int Uid, int Gid, string Type)
{
    public static FileFacts Of(string path)
    {
        var fields = ProcessRunner.RunChecked("stat", "-c", "%a %u %g %F", path).StandardOutput.Trim().Split(' ', 4);
        return new FileFacts(fields[0], int.Parse(fields[1]), int.Parse(fields[2]), fields[3]);
    }

    public static void Chown(string path, int uid, int gid) =>
        ProcessRunner.RunChecked("chown", "-h", $"{uid}:{gid}", path);

    public static void Chmod(string path, string mode) => ProcessRunner.RunChecked("chmod", mode, path);

    public static void Symlink(string target, string link) => ProcessRunner.RunChecked("ln", "-s", target, link);
}
