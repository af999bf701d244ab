using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Handlers;

/// <summary>
/// A node folder moved onto its own small tmpfs (the tests run as root), so a full disk and a read-only file system
/// are real ones; unmounted on dispose.
/// </summary>
internal sealed class SmallFileSystem : IDisposable
{
    private readonly string _folder;

    private SmallFileSystem(string folder) => _folder = folder;

    public static SmallFileSystem Over(string folder, int sizeKiB)
    {
        var saved = folder + ".saved";
        Directory.Move(folder, saved);
        Directory.CreateDirectory(folder);
        ProcessRunner.RunChecked("mount", "-t", "tmpfs", "-o", $"size={sizeKiB}k,mode=0755", "tmpfs", folder);
        var mounted = new SmallFileSystem(folder);
        try
        {
            ProcessRunner.RunChecked("cp", "-a", saved + "/.", folder);
            Directory.Delete(saved, recursive: true);
        }
        catch
        {
            mounted.Dispose();
            throw;
        }
        return mounted;
    }

    /// <summary>Takes every free block with a filler file, so the next write fails with ENOSPC.</summary>
    public void Fill()
    {
        var result = ProcessRunner.Run("dd", ["if=/dev/zero", $"of={Path.Combine(_folder, ".filler")}", "bs=1k"], timeout: TimeSpan.FromSeconds(20));
        Assert.Contains("No space left", result.StandardError);
    }

    public void RemountReadOnly() => ProcessRunner.RunChecked("mount", "-o", "remount,ro", _folder);

    public void Dispose() => ProcessRunner.Run("umount", ["-l", _folder], timeout: TimeSpan.FromSeconds(20));
}
