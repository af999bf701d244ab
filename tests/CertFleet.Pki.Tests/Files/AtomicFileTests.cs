using System.Text;
using CertFleet.Pki.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Files;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = ScratchDirectory.Create("atomic");

    public void Dispose()
    {
        FileFacts.Chmod(_folder, "755");
        ScratchDirectory.Delete(_folder);
    }

    [Theory]
    [InlineData("600")]
    [InlineData("644")]
    [InlineData("640")]
    public void Replace_ExistingFile_ReplacesContentAndKeepsMode(string mode)
    {
        var path = Existing("apiserver.crt", "old certificate", mode);

        AtomicFile.Replace(path, "new certificate, longer than before"u8);

        Assert.Equal("new certificate, longer than before", File.ReadAllText(path));
        Assert.Equal(mode, FileFacts.Of(path).Mode);
    }

    [Fact]
    public void Replace_FolderInAUsersHomeSwappedForALinkToAnotherFolder_RefusedNamingTheLinkAndNothingWrittenThere()
    {
        // alice's ~/.kube/config is an administrator's kubeconfig CertFleet rewrites; between the scan and the write
        // alice puts a link in the place of ~/.kube, pointing at a folder only root may write
        var home = Path.Combine(_folder, "home-alice");
        var target = Path.Combine(_folder, "root-only");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(target);
        File.CreateSymbolicLink(Path.Combine(home, ".kube"), target);
        ProcessRunner.RunChecked("chown", "-h", "65534:65534", home, Path.Combine(home, ".kube"));

        var refused = Assert.Throws<PkiException>(() => AtomicFile.Replace(Path.Combine(home, ".kube", "config"), "alice's content"u8));

        Assert.Contains($"{home}/.kube: is a symbolic link that user 65534", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(target));
    }

    [Theory]
    [InlineData("777")] // a folder anyone may change, not sticky
    [InlineData("1777")] // as /tmp, but the link is not root's
    public void Replace_LinkOnTheWayInAFolderOthersMayChange_Refused(string mode)
    {
        var shared = Path.Combine(_folder, "shared");
        var target = Path.Combine(_folder, "root-only");
        Directory.CreateDirectory(shared);
        Directory.CreateDirectory(target);
        File.CreateSymbolicLink(Path.Combine(shared, "pki"), target);
        if (mode == "1777")
        {
            ProcessRunner.RunChecked("chown", "-h", "65534:65534", Path.Combine(shared, "pki"));
        }
        FileFacts.Chmod(shared, mode);

        var refused = Assert.Throws<PkiException>(() => AtomicFile.Replace(Path.Combine(shared, "pki", "ca.crt"), "new"u8));
        FileFacts.Chmod(shared, "755");

        Assert.Contains($"{shared}/pki: is a symbolic link that ", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(target));
    }

    [Fact]
    public void Replace_LinkOnTheWayThatOnlyRootCouldHaveMade_IsFollowed()
    {
        // /etc/kubernetes -> /data/kubernetes, made by the operator: root's link in a folder only root may change
        var real = Path.Combine(_folder, "data", "kubernetes");
        Directory.CreateDirectory(real);
        File.CreateSymbolicLink(Path.Combine(_folder, "kubernetes"), "data/kubernetes");
        File.WriteAllText(Path.Combine(real, "ca.crt"), "old");

        AtomicFile.Replace(Path.Combine(_folder, "kubernetes", "ca.crt"), "new"u8);

        Assert.Equal("new", File.ReadAllText(Path.Combine(real, "ca.crt")));
        Assert.True(File.Exists(Path.Combine(_folder, "kubernetes")) is false && Directory.Exists(Path.Combine(_folder, "kubernetes")));
    }

    [Fact]
    public void Replace_FolderSwappedForALinkAfterTheTemporaryWasWritten_RenamesInTheFolderItOpenedAndNeverThroughTheLink()
    {
        var home = Path.Combine(_folder, "home-bob");
        var kube = Path.Combine(home, ".kube");
        var target = Path.Combine(_folder, "root-only");
        Directory.CreateDirectory(kube);
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(kube, "config"), "old");
        ProcessRunner.RunChecked("chown", "-R", "65534:65534", home);

        FaultPoints.OnReached = point =>
        {
            if (point == FaultPoints.AtomicWriteAfterTempWritten)
            {
                // the folder moves away and a link to a folder of the attacker's choosing takes its name
                Directory.Move(kube, kube + "-moved");
                File.CreateSymbolicLink(kube, target);
            }
        };
        try
        {
            AtomicFile.Replace(Path.Combine(kube, "config"), "new"u8);
        }
        finally
        {
            FaultPoints.OnReached = null;
        }

        Assert.Empty(Directory.GetFileSystemEntries(target));
        Assert.Equal("new", File.ReadAllText(Path.Combine(kube + "-moved", "config")));
        Assert.Single(Directory.GetFileSystemEntries(kube + "-moved"));
    }

    [Theory]
    [InlineData("775")]
    [InlineData("777")]
    public void Replace_InARealFolderOthersMayWrite_Written(string mode)
    {
        // no link on the way: the write goes through the folder opened, whatever others do to its name afterwards
        var folder = Path.Combine(_folder, "kubernetes");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "ca.crt");
        File.WriteAllText(path, "old");
        FileFacts.Chmod(folder, mode);

        AtomicFile.Replace(path, "new"u8);
        FileFacts.Chmod(folder, "755");

        Assert.Equal("new", File.ReadAllText(path));
    }

    [Fact]
    public void Replace_FileOwnedByAnotherUser_KeepsOwnerAndGroup()
    {
        var path = Existing("etcd-server.key", "old key", "600");
        FileFacts.Chown(path, 1234, 2345);

        AtomicFile.Replace(path, "new key"u8);

        var facts = FileFacts.Of(path);
        Assert.Equal((1234, 2345, "600"), (facts.Uid, facts.Gid, facts.Mode));
        Assert.Equal("new key", File.ReadAllText(path));
    }

    [Fact]
    public void Replace_NewFile_CreatesItWithMode0600()
    {
        var path = Path.Combine(_folder, "new.key");

        AtomicFile.Replace(path, "fresh"u8);

        Assert.Equal("fresh", File.ReadAllText(path));
        Assert.Equal("600", FileFacts.Of(path).Mode);
    }

    [Fact]
    public void Replace_Succeeds_LeavesNoTemporaryBehind()
    {
        var path = Existing("ca.crt", "old", "644");

        AtomicFile.Replace(path, "new"u8);
        AtomicFile.Replace(path, "newer"u8);

        Assert.Equal(["ca.crt"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Replace_EmptyContent_WritesAnEmptyFile()
    {
        var path = Existing("empty.txt", "something", "644");

        AtomicFile.Replace(path, ReadOnlySpan<byte>.Empty);

        Assert.Equal(0, new FileInfo(path).Length);
    }

    [Fact]
    public void Replace_ReadOnlyFolder_ThrowsNamingPathAndLeavesOriginal()
    {
        var path = Existing("apiserver.crt", "old certificate", "644");
        FileFacts.Chmod(_folder, "555");

        var error = Assert.Throws<PkiException>(() => Unprivileged.Run(() => AtomicFile.Replace(path, "new"u8)));

        FileFacts.Chmod(_folder, "755");
        Assert.Contains(path, error.Message);
        Assert.Contains("unchanged", error.Message);
        Assert.Equal("old certificate", File.ReadAllText(path));
        Assert.Equal(["apiserver.crt"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Replace_MissingFolder_ThrowsNamingPath()
    {
        var path = Path.Combine(_folder, "no-such-folder", "ca.crt");

        var error = Assert.Throws<PkiException>(() => AtomicFile.Replace(path, "new"u8));

        Assert.Contains(path, error.Message);
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Fact]
    public void Replace_Symlink_RefusesAndKeepsTheLink()
    {
        var target = Existing("kubelet-client-1.pem", "pair", "600");
        var link = Path.Combine(_folder, "kubelet-client-current.pem");
        FileFacts.Symlink(target, link);

        var error = Assert.Throws<PkiException>(() => AtomicFile.Replace(link, "new"u8));

        Assert.Contains("symbolic link", error.Message);
        Assert.Equal("symbolic link", FileFacts.Of(link).Type);
        Assert.Equal("pair", File.ReadAllText(target));
    }

    [Fact]
    public void PrepareSymlink_OverAnAbsoluteLink_KeepsTheTargetTextAsGivenAndTheLinksOwner()
    {
        var link = Path.Combine(_folder, "kubelet-client-current.pem");
        FileFacts.Symlink("/var/lib/kubelet/pki/kubelet-client-1.pem", link);
        FileFacts.Chown(link, 1234, 2345);
        var owner = FileOwnership.Read(link, followSymlinks: false);

        AtomicFile.PrepareSymlink(link, "/var/lib/kubelet/pki/kubelet-client-2.pem", owner, withFaultPoints: true).Rename();

        Assert.Equal("/var/lib/kubelet/pki/kubelet-client-2.pem", ProcessRunner.RunChecked("readlink", link).StandardOutput.TrimEnd('\n'));
        var facts = FileFacts.Of(link);
        Assert.Equal(("symbolic link", 1234, 2345), (facts.Type, facts.Uid, facts.Gid));
        Assert.Equal(["kubelet-client-current.pem"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void PrepareSymlink_RegularFileThere_RefusesAndKeepsTheFile()
    {
        var path = Existing("kubelet-client-current.pem", "a file, not a link", "600");

        var error = Assert.Throws<PkiException>(() => AtomicFile.PrepareSymlink(path, "kubelet-client-2.pem", owner: null, withFaultPoints: true));

        Assert.Contains("not a symbolic link", error.Message);
        Assert.Equal("a file, not a link", File.ReadAllText(path));
    }

    [Fact]
    public void PrepareNew_NameTakenBeforeTheRename_ReplacesNothingAndLeavesNoTemporary()
    {
        var template = FileOwnership.Read(Existing("kubelet-client-1.pem", "old pair", "600"), followSymlinks: false)!.Value;
        var path = Path.Combine(_folder, "kubelet-client-2.pem");
        var prepared = AtomicFile.PrepareNew(path, "new pair"u8, template);
        File.WriteAllText(path, "the kubelet's, written meanwhile");

        var error = Assert.Throws<PkiException>(prepared.Rename);

        Assert.Contains("nothing was replaced", error.Message);
        Assert.Equal("the kubelet's, written meanwhile", File.ReadAllText(path));
        Assert.Equal(0, AtomicFile.RemoveStaleTemporaries(_folder));
    }

    [Fact]
    public void PrepareNew_FreeName_CreatesTheFileWithTheTemplatesOwnerAndMode()
    {
        var old = Existing("kubelet-client-1.pem", "old pair", "600");
        FileFacts.Chown(old, 1234, 2345);
        var path = Path.Combine(_folder, "kubelet-client-2.pem");

        AtomicFile.PrepareNew(path, "new pair"u8, FileOwnership.Read(old, followSymlinks: false)!.Value).Rename();

        var facts = FileFacts.Of(path);
        Assert.Equal(("600", 1234, 2345, "regular file"), (facts.Mode, facts.Uid, facts.Gid, facts.Type));
        Assert.Equal("new pair", File.ReadAllText(path));
        Assert.Equal(0, AtomicFile.RemoveStaleTemporaries(_folder));
    }

    [Theory]
    [InlineData(".ca.crt.certfleet-tmp-0f1e2d3c4b5a6978", true)]
    [InlineData("/etc/kubernetes/pki/.apiserver.key.certfleet-tmp-abc123", true)]
    [InlineData("ca.crt", false)]
    [InlineData("ca.crt.certfleet-tmp-0f1e", false)]
    [InlineData(".ca.crt.certfleet-tmp-", false)]
    [InlineData(".ca.crt.certfleet-tmp-XYZ", false)]
    [InlineData(".certfleet-tmp-abc", false)]
    public void IsTemporary_Name_RecognisesOnlyOurTemporaries(string name, bool expected)
    {
        Assert.Equal(expected, AtomicFile.IsTemporary(name));
    }

    [Fact]
    public void RemoveStaleTemporaries_TemporarySymlink_DeletesTheLinkNotWhatItLeadsTo()
    {
        var target = Existing("kubelet-client-1.pem", "pair", "600");
        FileFacts.Symlink(target, Path.Combine(_folder, ".kubelet-client-current.pem.certfleet-tmp-00aa11bb22cc33dd"));
        FileFacts.Symlink("/var/lib/kubelet/pki/dangling.pem", Path.Combine(_folder, ".kubelet-client-current.pem.certfleet-tmp-0123456789abcdef"));

        var removed = AtomicFile.RemoveStaleTemporaries(_folder);

        Assert.Equal(2, removed);
        Assert.Equal(["kubelet-client-1.pem"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName));
        Assert.Equal("pair", File.ReadAllText(target));
    }

    [Fact]
    public void RemoveStaleTemporaries_Leftovers_DeletesOnlyThem()
    {
        Existing("ca.crt", "ca", "644");
        Existing(".ca.crt.certfleet-tmp-00aa11bb22cc33dd", "half", "600");
        Existing(".apiserver.key.certfleet-tmp-0123456789abcdef", "half", "600");
        Existing("ca.crt.certfleet-tmp-notours", "user file", "644");

        var removed = AtomicFile.RemoveStaleTemporaries(_folder);

        Assert.Equal(2, removed);
        Assert.Equal(["ca.crt", "ca.crt.certfleet-tmp-notours"],
            Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RemoveStaleTemporaries_MissingFolder_ReturnsZero()
    {
        Assert.Equal(0, AtomicFile.RemoveStaleTemporaries(Path.Combine(_folder, "missing")));
    }

    private string Existing(string name, string content, string mode)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content));
        FileFacts.Chmod(path, mode);
        return path;
    }
}
