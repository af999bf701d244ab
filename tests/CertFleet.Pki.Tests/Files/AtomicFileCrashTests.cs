using CertFleet.Pki.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Files;

/// <summary>
/// A crash simulated in-process: the fault-point hook throws an exception the code does not catch, so nothing
/// after the point runs (no cleanup, no rename, no fsync), as with SIGKILL. The real SIGKILL run is a CLI test.
/// </summary>
public sealed class AtomicFileCrashTests : IDisposable
{
    private const string OldCertificate = "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n";
    private const string NewCertificate = "-----BEGIN CERTIFICATE-----\nNEW, RENEWED, LONGER\n-----END CERTIFICATE-----\n";

    private readonly string _folder = ScratchDirectory.Create("crash");

    public void Dispose()
    {
        FaultPoints.OnReached = null;
        ScratchDirectory.Delete(_folder);
    }

    [Theory]
    [InlineData(FaultPoints.AtomicWriteAfterTempWritten, OldCertificate, 1)]
    [InlineData(FaultPoints.AtomicWriteAfterRename, NewCertificate, 0)]
    public void Replace_CrashAtFaultPoint_LeavesOldOrNewInFullAndCleansLeftovers(string point, string expected, int leftovers)
    {
        var path = Path.Combine(_folder, "apiserver.crt");
        File.WriteAllText(path, OldCertificate);
        FileFacts.Chmod(path, "640");
        FileFacts.Chown(path, 1234, 1234);
        CrashAt(point);

        Assert.Throws<SimulatedCrash>(() => AtomicFile.Replace(path, System.Text.Encoding.UTF8.GetBytes(NewCertificate)));

        FaultPoints.OnReached = null;
        Assert.Equal(expected, File.ReadAllText(path));
        var facts = FileFacts.Of(path);
        Assert.Equal(("640", 1234, 1234), (facts.Mode, facts.Uid, facts.Gid));
        Assert.Equal(leftovers, AtomicFile.RemoveStaleTemporaries(_folder));
        Assert.Equal(["apiserver.crt"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(FaultPoints.AtomicWriteAfterTempWritten, "/var/lib/kubelet/pki/kubelet-client-1.pem", 1)]
    [InlineData(FaultPoints.AtomicWriteAfterRename, "/var/lib/kubelet/pki/kubelet-client-2.pem", 0)]
    public void PrepareSymlink_CrashAtFaultPoint_LeavesTheOldLinkOrTheNewOneAndCleansLeftovers(string point, string expected, int leftovers)
    {
        var link = Path.Combine(_folder, "kubelet-client-current.pem");
        FileFacts.Symlink("/var/lib/kubelet/pki/kubelet-client-1.pem", link);
        CrashAt(point);

        Assert.Throws<SimulatedCrash>(() =>
            AtomicFile.PrepareSymlink(link, "/var/lib/kubelet/pki/kubelet-client-2.pem", owner: null, withFaultPoints: true).Rename());

        FaultPoints.OnReached = null;
        Assert.Equal(expected, ProcessRunner.RunChecked("readlink", link).StandardOutput.TrimEnd('\n'));
        Assert.Equal(leftovers, AtomicFile.RemoveStaleTemporaries(_folder));
        Assert.Equal(["kubelet-client-current.pem"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Replace_CrashAfterTemporaryWritten_TemporaryHoldsTheCompleteNewFile()
    {
        var path = Path.Combine(_folder, "apiserver.key");
        File.WriteAllText(path, OldCertificate);
        CrashAt(FaultPoints.AtomicWriteAfterTempWritten);

        Assert.Throws<SimulatedCrash>(() => AtomicFile.Replace(path, System.Text.Encoding.UTF8.GetBytes(NewCertificate)));

        var temporary = Assert.Single(Directory.EnumerateFiles(_folder), f => AtomicFile.IsTemporary(f));
        Assert.Equal(NewCertificate, File.ReadAllText(temporary));
        Assert.StartsWith(".apiserver.key.certfleet-tmp-", Path.GetFileName(temporary));
    }

    [Fact]
    public void Replace_HookSet_ReachesBothPointsInOrderAndNothingOnceCleared()
    {
        var path = Path.Combine(_folder, "ca.crt");
        var reached = new List<string>();
        FaultPoints.OnReached = reached.Add;

        AtomicFile.Replace(path, "x"u8);

        Assert.Equal([FaultPoints.AtomicWriteAfterTempWritten, FaultPoints.AtomicWriteAfterRename], reached);
        FaultPoints.OnReached = null;
        FaultPoints.Reached(FaultPoints.AtomicWriteAfterRename); // neither hook nor variable: returns
        Assert.Equal("x", File.ReadAllText(path));
    }

    private static void CrashAt(string point) =>
        FaultPoints.OnReached = name =>
        {
            if (name == point)
            {
                throw new SimulatedCrash(point);
            }
        };
}
