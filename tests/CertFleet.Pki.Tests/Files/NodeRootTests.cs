using System.Text;
using CertFleet.Pki.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Files;

public sealed class NodeRootTests : IDisposable
{
    private readonly string _root = ScratchDirectory.Create("noderoot");
    private readonly string _outside = ScratchDirectory.Create("outside");

    public void Dispose()
    {
        ScratchDirectory.Delete(_root);
        ScratchDirectory.Delete(_outside);
    }

    [Fact]
    public void Resolve_AbsoluteSymlinkTarget_StaysInsideRootNotHost()
    {
        Write("/etc/passwd", "node passwd");
        Link("/etc/passwd", "/etc/link-to-passwd");
        var root = new NodeRoot(_root);

        Assert.Equal(Host("/etc/passwd"), root.Resolve("/etc/link-to-passwd"));
        Assert.Equal("node passwd", Text(root.ReadAllBytes("/etc/link-to-passwd", 1024)));
    }

    [Fact]
    public void Resolve_KubeletCurrentLinkWithAbsoluteTarget_ReadsTheNodesRotatedFile()
    {
        Write("/var/lib/kubelet/pki/kubelet-client-2026-11-28.pem", "rotated pair");
        Link("/var/lib/kubelet/pki/kubelet-client-2026-11-28.pem", "/var/lib/kubelet/pki/kubelet-client-current.pem");
        var root = new NodeRoot(_root);

        Assert.Equal(Host("/var/lib/kubelet/pki/kubelet-client-2026-11-28.pem"),
            root.Resolve("/var/lib/kubelet/pki/kubelet-client-current.pem"));
        Assert.True(root.IsSymlink("/var/lib/kubelet/pki/kubelet-client-current.pem"));
        Assert.Equal("/var/lib/kubelet/pki/kubelet-client-2026-11-28.pem",
            root.SymlinkTarget("/var/lib/kubelet/pki/kubelet-client-current.pem"));
    }

    [Fact]
    public void Resolve_NestedAbsoluteAndRelativeLinksThroughFolders_FollowsEveryLink()
    {
        Write("/srv/real/pki/ca.crt", "ca");
        Link("/srv/real", "/opt/kube");                 // absolute link to a folder
        Link("../opt/kube/pki", "/etc/pki-dir");         // relative link through that link
        Link("pki-dir", "/etc/pki");                     // a link to a link
        var root = new NodeRoot(_root);

        Assert.Equal(Host("/srv/real/pki/ca.crt"), root.Resolve("/etc/pki/ca.crt"));
        Assert.Equal("ca", Text(root.ReadAllBytes("/etc/pki/ca.crt", 1024)));
        Assert.Equal("/etc/pki-dir", root.SymlinkTarget("/etc/pki"));
    }

    [Fact]
    public void Resolve_DotDotAfterSymlinkedFolder_UsesTheRealParent()
    {
        Write("/srv/real/pki/ca.crt", "ca");
        Write("/srv/real/sibling.txt", "real parent");
        Link("/srv/real/pki", "/etc/pki");
        var root = new NodeRoot(_root);

        // like the kernel: /etc/pki/.. is /srv/real, not /etc
        Assert.Equal(Host("/srv/real/sibling.txt"), root.Resolve("/etc/pki/../sibling.txt"));
    }

    [Fact]
    public void Resolve_DotDotAboveRoot_StopsAtRoot()
    {
        Write("/etc/hostname", "node-1");
        var root = new NodeRoot(_root);

        Assert.Equal(Host("/etc/hostname"), root.Resolve("/../../../etc/hostname"));
    }

    [Fact]
    public void Resolve_RelativeLinkClimbingAboveRoot_NeverReachesTheHost()
    {
        File.WriteAllText(Path.Combine(_outside, "secret"), "host secret");
        var climb = string.Concat(Enumerable.Repeat("../", 30)) + _outside.TrimStart('/') + "/secret";
        Link(climb, "/etc/escape");
        var root = new NodeRoot(_root);

        Assert.StartsWith(_root + "/", root.Resolve("/etc/escape"));
        Assert.Null(root.ReadAllBytes("/etc/escape", 1024));
    }

    [Fact]
    public void Resolve_MissingFinalAndMiddleComponents_ReturnsPathUnderRoot()
    {
        var root = new NodeRoot(_root);

        Assert.Equal(Host("/var/lib/certfleet/backups/x"), root.Resolve("/var/lib/certfleet/backups/x"));
    }

    [Fact]
    public void Resolve_SymlinkLoop_ThrowsNamingThePath()
    {
        Directory.CreateDirectory(Host("/etc"));
        Link("/etc/b", "/etc/a");
        Link("a", "/etc/b");
        var root = new NodeRoot(_root);

        var error = Assert.Throws<PkiException>(() => root.Resolve("/etc/a/ca.crt"));
        Assert.Contains("/etc/a/ca.crt", error.Message);
        Assert.Contains("loop", error.Message);
    }

    [Fact]
    public void Resolve_RelativePath_ThrowsSayingItMustBeAbsolute()
    {
        var root = new NodeRoot(_root);

        var error = Assert.Throws<PkiException>(() => root.Resolve("etc/kubernetes"));
        Assert.Contains("etc/kubernetes", error.Message);
        Assert.Contains("absolute", error.Message);
    }

    [Fact]
    public void ToNodePath_ResolvedPath_RoundTrips()
    {
        Write("/etc/kubernetes/pki/ca.crt", "ca");
        var root = new NodeRoot(_root + "/");

        Assert.Equal(_root, root.HostDirectory);
        Assert.Equal("/etc/kubernetes/pki/ca.crt", root.ToNodePath(root.Resolve("/etc/kubernetes/pki/ca.crt")));
        Assert.Equal("/", root.ToNodePath(_root));
    }

    [Fact]
    public void ToNodePath_HostPathOutsideRoot_Throws()
    {
        var root = new NodeRoot(_root);

        Assert.Throws<PkiException>(() => root.ToNodePath(_root + "-other/etc/passwd"));
    }

    [Fact]
    public void Constructor_MissingFolderOrFile_ThrowsNamingIt()
    {
        var missing = Path.Combine(_root, "nope");
        var file = Write("/afile", "x");

        Assert.Contains(missing, Assert.Throws<PkiException>(() => new NodeRoot(missing)).Message);
        Assert.Contains("not a folder", Assert.Throws<PkiException>(() => new NodeRoot(file)).Message);
    }

    [Fact]
    public void Constructor_SystemRoot_MapsNodePathsToThemselves()
    {
        var root = new NodeRoot("/");

        Assert.Equal("/", root.HostDirectory);
        Assert.Equal("/etc/hostname", root.ToNodePath(root.Resolve("/etc/hostname")));
    }

    [Fact]
    public void SymlinkTarget_RegularFile_ReturnsNull()
    {
        Write("/etc/kubernetes/pki/ca.crt", "ca");
        var root = new NodeRoot(_root);

        Assert.Null(root.SymlinkTarget("/etc/kubernetes/pki/ca.crt"));
        Assert.False(root.IsSymlink("/etc/kubernetes/pki/ca.crt"));
        Assert.False(root.IsSymlink("/etc/kubernetes/pki/missing.crt"));
    }

    [Fact]
    public void EnumerateFiles_LinksInsideAndOutsideRoot_ListsOnlyWhatIsInsideRoot()
    {
        Write("/etc/kubernetes/pki/ca.crt", "ca");
        Write("/var/lib/kubelet/pki/kubelet-client-1.pem", "pair");
        Link("/var/lib/kubelet/pki/kubelet-client-1.pem", "/etc/kubernetes/pki/kubelet-current.pem");
        File.WriteAllText(Path.Combine(_outside, "secret.key"), "host key");
        Link(Path.Combine(_outside, "secret.key"), "/etc/kubernetes/pki/host-absolute.key");   // exists on the host only
        Link("../../../../../../../../.." + _outside + "/secret.key", "/etc/kubernetes/pki/host-relative.key");
        Link("/nowhere.crt", "/etc/kubernetes/pki/dangling.crt");
        Write("/etc/kubernetes/pki/.ca.crt.certfleet-tmp-0123abcd", "half written");
        var root = new NodeRoot(_root);

        var files = root.EnumerateFiles("/etc/kubernetes/pki", recursive: false).ToList();

        Assert.Equal(["/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/kubelet-current.pem"], files);
    }

    [Fact]
    public void EnumerateFiles_Recursive_FollowsSymlinkedFolderAndSurvivesLoopsSorted()
    {
        Write("/etc/kubernetes/pki/ca.crt", "ca");
        Write("/etc/kubernetes/pki/a/front-proxy-ca.crt", "fp");
        Write("/etc/etcd/ssl/server.crt", "etcd");
        Link("/etc/etcd/ssl", "/etc/kubernetes/pki/etcd");      // a common layout: pki/etcd -> elsewhere
        Link("/etc/kubernetes", "/etc/kubernetes/pki/a/up");     // a folder loop
        Link("/etc/kubernetes/pki/self", "/etc/kubernetes/pki/self"); // a link loop
        var root = new NodeRoot(_root);

        var flat = root.EnumerateFiles("/etc/kubernetes/pki", recursive: false).ToList();
        var deep = root.EnumerateFiles("/etc/kubernetes/pki/", recursive: true).ToList();

        Assert.Equal(["/etc/kubernetes/pki/ca.crt"], flat);
        Assert.Contains("/etc/kubernetes/pki/etcd/server.crt", deep);
        Assert.Contains("/etc/kubernetes/pki/a/front-proxy-ca.crt", deep);
        Assert.Equal(deep.Order(StringComparer.Ordinal), deep);
        Assert.Equal(deep.Distinct().Count(), deep.Count);
    }

    [Fact]
    public void EnumerateFiles_MissingFolder_YieldsNothing()
    {
        var root = new NodeRoot(_root);

        Assert.Empty(root.EnumerateFiles("/etc/kubernetes/pki", recursive: true));
    }

    [Fact]
    public void ReadAllBytes_MissingFile_ReturnsNull()
    {
        var root = new NodeRoot(_root);

        Assert.Null(root.ReadAllBytes("/etc/kubernetes/pki/ca.crt", 1024));
    }

    [Fact]
    public void ReadAllBytes_LargerThanLimit_ThrowsNamingThePath()
    {
        Write("/etc/kubernetes/pki/ca.crt", new string('x', 2048));
        var root = new NodeRoot(_root);

        var error = Assert.Throws<PkiException>(() => root.ReadAllBytes("/etc/kubernetes/pki/ca.crt", 1024));
        Assert.Contains("/etc/kubernetes/pki/ca.crt", error.Message);
        Assert.Contains("2048", error.Message);
    }

    [Fact]
    public void ReadAllBytes_Folder_ThrowsNamingThePath()
    {
        Directory.CreateDirectory(Host("/etc/kubernetes/pki"));
        var root = new NodeRoot(_root);

        var error = Assert.Throws<PkiException>(() => root.ReadAllBytes("/etc/kubernetes/pki", 1024));
        Assert.Contains("/etc/kubernetes/pki", error.Message);
        Assert.Contains("folder", error.Message);
    }

    [Fact]
    public void ReadAllBytes_PermissionDenied_ThrowsNamingThePath()
    {
        var key = Write("/etc/kubernetes/pki/ca.key", "secret");
        FileFacts.Chmod(key, "600");
        var root = new NodeRoot(_root);

        var error = Assert.Throws<PkiException>(() => Unprivileged.Run(() => root.ReadAllBytes("/etc/kubernetes/pki/ca.key", 1024)));
        Assert.Contains("/etc/kubernetes/pki/ca.key", error.Message);
        Assert.Contains("permission denied", error.Message);
    }

    private string Host(string pathOnNode) => _root + pathOnNode;

    private string Write(string pathOnNode, string content)
    {
        var host = Host(pathOnNode);
        Directory.CreateDirectory(Path.GetDirectoryName(host)!);
        File.WriteAllText(host, content);
        return host;
    }

    private void Link(string target, string linkOnNode)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Host(linkOnNode))!);
        FileFacts.Symlink(target, Host(linkOnNode));
    }

    private static string Text(byte[]? content) => System.Text.Encoding.UTF8.GetString(content ?? throw new Xunit.Sdk.XunitException("file missing"));
}
