using CertFleet.Agent.Handlers;
using CertFleet.Agent.Steps;
using CertFleet.Pki.Files;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;

namespace CertFleet.Agent.Tests.Handlers;

/// <summary>
/// Installs that the file system refuses (full disk, read-only, permission denied) on real mounts and flags: the step
/// fails naming the file and the cause, every file is the old one, and no temporary or in-progress record remains.
/// </summary>
public sealed class InstallFailureTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string Backups = "var/lib/certfleet";

    [Fact]
    public void InstallHandler_DiskFull_FailsNamingTheFileAndNothingChanges()
    {
        var root = pki.CopyNode("master-1");
        var folder = Path.Combine(root, "etc/kubernetes/pki");
        using var agent = new AgentUnderTest(root);
        var request = Install("full", root);
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);
        using (var disk = SmallFileSystem.Over(folder, sizeKiB: 512))
        {
            disk.Fill();
            before = FolderSnapshot.Take(root, excludeUnder: Backups);

            var result = agent.Get<InstallHandler>().Handle(request);

            AssertRefused(result, agent, root, before, folder + "/", "No space left on device");
        }
    }

    [Fact]
    public void InstallHandler_ReadOnlyFileSystem_FailsNamingTheFileAndNothingChanges()
    {
        var root = pki.CopyNode("master-1");
        var folder = Path.Combine(root, "etc/kubernetes/pki");
        using var agent = new AgentUnderTest(root);
        var request = Install("read-only", root);
        using var disk = SmallFileSystem.Over(folder, sizeKiB: 1024);
        disk.RemountReadOnly();
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);

        var result = agent.Get<InstallHandler>().Handle(request);

        AssertRefused(result, agent, root, before, folder + "/", "Read-only file system");
    }

    [Fact]
    public void InstallHandler_FolderNotWritable_FailsNamingTheFileAndNothingChanges()
    {
        var root = pki.CopyNode("master-1");
        var folder = Path.Combine(root, "etc/kubernetes/pki");
        using var agent = new AgentUnderTest(root);
        var request = Install("denied", root);
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);
        ProcessRunner.RunChecked("chattr", "+i", folder); // even root may not create a file in it
        try
        {
            var result = agent.Get<InstallHandler>().Handle(request);

            AssertRefused(result, agent, root, before, folder + "/", "creating the temporary file: Operation not permitted");
        }
        finally
        {
            ProcessRunner.RunChecked("chattr", "-i", folder);
        }
    }

    [Fact]
    public void InstallHandler_RenameRefusedAfterOthersWereRenamed_PutsThoseBackAndNamesTheFile()
    {
        var root = pki.CopyNode("master-1");
        var folder = Path.Combine(root, "etc/kubernetes/pki");
        var locked = Path.Combine(folder, "apiserver.crt");
        using var agent = new AgentUnderTest(root);
        var request = Install("rename-denied", root);
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);
        ProcessRunner.RunChecked("chattr", "+i", locked); // its temporary is written; renaming over it is refused
        try
        {
            var result = agent.Get<InstallHandler>().Handle(request);

            AssertRefused(result, agent, root, before, locked, "put back");
            Assert.Contains("not permitted", result.Message);
        }
        finally
        {
            ProcessRunner.RunChecked("chattr", "-i", locked);
        }
    }

    private static void AssertRefused(StepResult result, AgentUnderTest agent, string root, FolderSnapshot before, string pathInMessage, string cause)
    {
        Assert.False(result.Ok);
        Assert.Contains(pathInMessage, result.Message);
        Assert.Contains(cause, result.Message);
        Assert.Contains("nothing", result.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)));
        Assert.DoesNotContain(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories), f => AtomicFile.IsTemporary(Path.GetFileName(f)));
        Assert.False(File.Exists(Path.Combine(agent.StateDirectory, "install-in-progress.json")));
        Assert.Equal(result.Message, new StepJournal(agent.StateDirectory).Find(result.StepId)?.Message);
    }

    /// <summary>admin.crt (also embedded in admin.conf, outside the folder) and apiserver.crt renewed.</summary>
    private static InstallRequest Install(string stepId, string root)
    {
        var request = new InstallRequest { RolloutId = "r", StepId = stepId };
        foreach (var file in new[] { "admin.crt", "apiserver.crt" })
        {
            var old = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki", file));
            request.Replacements.Add(new Replacement
            {
                OldFingerprint = old.Sha256Fingerprint,
                CertificateDer = ByteString.CopyFrom(AgentUnderTest.Renew(root, file).Der),
            });
        }
        return request;
    }
}
