using CertFleet.Pki.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Files;

public sealed class BackupSetTests(KubeletRotationPkiFixture pki) : IClassFixture<KubeletRotationPkiFixture>
{
    private const string Certificate = "/etc/kubernetes/pki/apiserver.crt";
    private const string Key = "/etc/kubernetes/pki/apiserver.key";
    private const string CurrentKubeletPair = "/var/lib/kubelet/pki/kubelet-client-current.pem";

    // 18:00 at UTC+1 is 17:00 UTC: the folder is named in UTC
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 18, 0, 0, TimeSpan.FromHours(1));

    [Fact]
    public void Create_NewSet_MakesPrivateFolderNamedByUtcTime()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));

        var set = BackupSet.Create(root, Now);

        Assert.Equal("/var/lib/certfleet/backups/20261128T170000Z", set.NodeDirectory);
        Assert.Equal(root.HostDirectory + set.NodeDirectory, set.HostDirectory);
        Assert.Equal("700", FileFacts.Of(set.HostDirectory).Mode);
        Assert.Empty(set.SavedPaths);
    }

    [Fact]
    public void Create_ThreeSetsInOneSecond_GetSeparateFolders()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));

        var first = BackupSet.Create(root, Now);
        var second = BackupSet.Create(root, Now.AddMilliseconds(300));
        var third = BackupSet.Create(root, Now.AddMilliseconds(600));

        Assert.EndsWith("/20261128T170000Z", first.NodeDirectory);
        Assert.EndsWith("/20261128T170000Z-2", second.NodeDirectory);
        Assert.EndsWith("/20261128T170000Z-3", third.NodeDirectory);
        Assert.True(Directory.Exists(second.HostDirectory));
    }

    [Fact]
    public void Save_CertificateAndKey_MirrorsNodePathsWithBytesModeAndOwner()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        FileFacts.Chown(root.Resolve(Key), 1234, 1234);
        var set = BackupSet.Create(root, Now);

        set.Save(Certificate);
        set.Save(Key);

        Assert.Equal([Certificate, Key], set.SavedPaths);
        foreach (var path in new[] { Certificate, Key })
        {
            var copy = set.HostDirectory + path;
            Assert.Equal(File.ReadAllBytes(root.Resolve(path)), File.ReadAllBytes(copy));
            var (original, saved) = (FileFacts.Of(root.Resolve(path)), FileFacts.Of(copy));
            Assert.Equal((original.Mode, original.Uid, original.Gid), (saved.Mode, saved.Uid, saved.Gid));
        }
        Assert.Equal(("600", 1234), (FileFacts.Of(set.HostDirectory + Key).Mode, FileFacts.Of(set.HostDirectory + Key).Uid));
    }

    [Fact]
    public void Save_SymlinkedKubeletPair_SavesTheFileItPointsToUnderItsOwnPath()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var target = root.SymlinkTarget(CurrentKubeletPair)!;
        var set = BackupSet.Create(root, Now);

        set.Save(CurrentKubeletPair);

        Assert.StartsWith("/var/lib/kubelet/pki/kubelet-client-2", target);
        Assert.Equal([target], set.SavedPaths);
        Assert.Equal("regular file", FileFacts.Of(set.HostDirectory + target).Type);
        Assert.Equal(File.ReadAllBytes(root.Resolve(CurrentKubeletPair)), File.ReadAllBytes(set.HostDirectory + target));
    }

    [Fact]
    public void Save_SamePathTwiceAfterAnInstall_KeepsTheCopyFromBefore()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var before = File.ReadAllBytes(root.Resolve(Certificate));
        var set = BackupSet.Create(root, Now);

        set.Save(Certificate);
        AtomicFile.Replace(root.Resolve(Certificate), "installed"u8);
        set.Save(Certificate);

        Assert.Equal([Certificate], set.SavedPaths);
        Assert.Equal(before, File.ReadAllBytes(set.HostDirectory + Certificate));
    }

    [Fact]
    public void Save_MissingFile_ThrowsNamingThePath()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var set = BackupSet.Create(root, Now);

        var error = Assert.Throws<PkiException>(() => set.Save("/etc/kubernetes/pki/missing.crt"));

        Assert.Contains("/etc/kubernetes/pki/missing.crt", error.Message);
        Assert.Empty(set.SavedPaths);
    }

    [Fact]
    public void RestoreAll_AfterInstallOfBrokenFiles_BringsBackExactBytesModeAndAWorkingPair()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var (certificate, key, pair) = (root.Resolve(Certificate), root.Resolve(Key), root.Resolve(CurrentKubeletPair));
        var originals = new[] { certificate, key, pair }.Select(File.ReadAllBytes).ToList();
        var set = BackupSet.Create(root, Now);
        set.Save(Certificate);
        set.Save(Key);
        set.Save(CurrentKubeletPair);
        AtomicFile.Replace(certificate, "not a certificate"u8);
        AtomicFile.Replace(pair, "not a pair"u8);
        File.Delete(key);

        set.RestoreAll();

        Assert.Equal(originals, new[] { certificate, key, pair }.Select(File.ReadAllBytes).ToList());
        Assert.Equal("600", FileFacts.Of(key).Mode);
        Assert.Equal("symbolic link", FileFacts.Of(root.HostDirectory + CurrentKubeletPair).Type);
        var verify = Openssl.Verify(root.Resolve("/etc/kubernetes/pki/ca.crt"), certificate);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.Equal(Openssl.PublicKey(certificate), Openssl.Checked("pkey", "-in", key, "-pubout"));
    }

    [Fact]
    public void Open_ExistingSetAfterRestart_ListsSavedPathsAndRestores()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var original = File.ReadAllBytes(root.Resolve(Certificate));
        var first = BackupSet.Create(root, Now);
        first.Save(Key);
        first.Save(Certificate);
        AtomicFile.Replace(root.Resolve(Certificate), "installed"u8);

        var reopened = BackupSet.Open(new NodeRoot(root.HostDirectory), first.NodeDirectory);
        reopened.RestoreAll();

        Assert.Equal([Certificate, Key], reopened.SavedPaths);
        Assert.Equal(original, File.ReadAllBytes(root.Resolve(Certificate)));
    }

    [Fact]
    public void Save_CrashRightAfterSave_LeavesACompleteCopyAndTheOriginalUntouched()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var original = File.ReadAllBytes(root.Resolve(Key));
        var set = BackupSet.Create(root, Now);
        FaultPoints.OnReached = name =>
        {
            if (name == FaultPoints.BackupAfterSave)
            {
                throw new SimulatedCrash(name);
            }
        };
        try
        {
            Assert.Throws<SimulatedCrash>(() => set.Save(Key));
        }
        finally
        {
            FaultPoints.OnReached = null;
        }

        Assert.Equal(original, File.ReadAllBytes(set.HostDirectory + Key));
        Assert.Equal(original, File.ReadAllBytes(root.Resolve(Key)));
        Assert.Equal([Key], BackupSet.Open(root, set.NodeDirectory).SavedPaths);
    }

    [Fact]
    public void SaveLink_KubeletCurrentLink_SavesTheLinkItselfWithItsTargetTextAndOpenListsIt()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var text = LinkText(root, CurrentKubeletPair);
        var set = BackupSet.Create(root, Now);

        set.SaveLink(CurrentKubeletPair);

        var copy = set.HostDirectory + CurrentKubeletPair;
        Assert.Equal("symbolic link", FileFacts.Of(copy).Type);
        Assert.Equal(text, ProcessRunner.RunChecked("readlink", copy).StandardOutput.TrimEnd('\n'));
        Assert.Equal([CurrentKubeletPair], BackupSet.Open(root, set.NodeDirectory).SavedPaths);
    }

    [Fact]
    public void RestoreAll_LinkMovedToAnotherFile_PutsTheLinkBackWithoutTouchingWhatItLedTo()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var text = LinkText(root, CurrentKubeletPair);
        var link = root.HostDirectory + CurrentKubeletPair;
        FileFacts.Chown(link, 1234, 2345);
        var set = BackupSet.Create(root, Now);
        set.SaveLink(CurrentKubeletPair);
        var other = root.HostDirectory + "/var/lib/kubelet/pki/kubelet-client-2099-01-01-00-00-00.pem";
        File.WriteAllText(other, "someone else's file");
        ProcessRunner.RunChecked("ln", "-sfn", "/var/lib/kubelet/pki/kubelet-client-2099-01-01-00-00-00.pem", link);

        BackupSet.Open(new NodeRoot(root.HostDirectory), set.NodeDirectory).RestoreAll();

        Assert.Equal(text, LinkText(root, CurrentKubeletPair));
        var facts = FileFacts.Of(link);
        Assert.Equal(("symbolic link", 1234, 2345), (facts.Type, facts.Uid, facts.Gid));
        Assert.Equal("someone else's file", File.ReadAllText(other));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(link)!), e => AtomicFile.IsTemporary(e));
    }

    [Fact]
    public void RestoreAll_NewFileRecorded_DeletesItWhileItHoldsWhatWasWrittenAndNeverOtherwise()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        const string Created = "/var/lib/kubelet/pki/kubelet-client-2099-01-01-00-00-00.pem";
        const string Overwritten = "/var/lib/kubelet/pki/kubelet-client-2099-01-01-00-00-01.pem";
        var set = BackupSet.Create(root, Now);
        set.RecordNewFile(Created, "new pair"u8);
        set.RecordNewFile(Overwritten, "new pair"u8);
        set.RecordNewFile("/var/lib/kubelet/pki/kubelet-client-2099-01-01-00-00-02.pem", "never made"u8);
        File.WriteAllText(root.Resolve(Created), "new pair");
        File.WriteAllText(root.Resolve(Overwritten), "what the kubelet wrote under that name since");
        var reopened = BackupSet.Open(new NodeRoot(root.HostDirectory), set.NodeDirectory);

        reopened.RestoreAll();
        reopened.RestoreAll(); // again, as after a crash in the first one

        Assert.Equal(set.NewFiles, reopened.NewFiles);
        Assert.Empty(reopened.SavedPaths);
        Assert.False(File.Exists(root.Resolve(Created)));
        Assert.Equal("what the kubelet wrote under that name since", File.ReadAllText(root.Resolve(Overwritten)));
    }

    [Fact]
    public void RestoreAll_LinkCannotBePutBack_KeepsTheNewFileItLeadsToAndSaysWhy()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        const string Created = "/var/lib/kubelet/pki/kubelet-client-2099-01-01-00-00-00.pem";
        var link = root.HostDirectory + CurrentKubeletPair;
        var set = BackupSet.Create(root, Now);
        set.SaveLink(CurrentKubeletPair);
        set.RecordNewFile(Created, "new pair"u8);
        File.WriteAllText(root.Resolve(Created), "new pair");
        File.Delete(link);
        Directory.CreateDirectory(link); // in the link's place now: a folder, which is never replaced

        var error = Assert.Throws<PkiException>(set.RestoreAll);

        Assert.Contains(CurrentKubeletPair, error.Message);
        Assert.Equal("new pair", File.ReadAllText(root.Resolve(Created)));
    }

    [Fact]
    public void RecordNewFile_FileAlreadyThere_IsRefused()
    {
        var root = new NodeRoot(pki.CopyNode("master-1"));
        var set = BackupSet.Create(root, Now);

        var error = Assert.Throws<PkiException>(() => set.RecordNewFile(Certificate, "x"u8));

        Assert.Contains("already exists", error.Message);
        Assert.Empty(set.NewFiles);
    }

    private static string LinkText(NodeRoot root, string link) =>
        ProcessRunner.RunChecked("readlink", root.HostDirectory + link).StandardOutput.TrimEnd('\n');
}
