using CertFleet.Testing.Guides;

namespace CertFleet.Cli.Tests.Guides;

/// <summary>opsnull/follow-me-install-kubernetes-cluster: the kubelet rotates its client and serving certificates.</summary>
public sealed class OpsnullGuideTests(OpsnullLayout layout) : GuideLayoutTests<OpsnullLayout>(layout)
{
    // the guide works in /opt/k8s/work on the first master and copies from there
    protected override IReadOnlyList<string> WorkingFolders(string node) => ["/opt/k8s/work"];

    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => new Dictionary<string, string>
    {
        ["/etc/kubernetes/cert/kubelet-client-"] = "rotateCertificates: true in /etc/kubernetes/kubelet-config.yaml",
        ["/etc/kubernetes/cert/kubelet-server-"] = "serverTLSBootstrap: true in /etc/kubernetes/kubelet-config.yaml",
    };
}

/// <summary>dotbalo/k8s-ha-install: etcd through --config-file, the kubelet through a drop-in and kubelet-conf.yml.</summary>
public sealed class DotbaloGuideTests(DotbaloLayout layout) : GuideLayoutTests<DotbaloLayout>(layout)
{
    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => new Dictionary<string, string>
    {
        ["/var/lib/kubelet/pki/kubelet-client-"] = "rotateCertificates: true in /etc/kubernetes/kubelet-conf.yml",
    };
}

/// <summary>easzlab/kubeasz: /etc/kubernetes/ssl; the worker has no CA key.</summary>
public sealed class KubeaszGuideTests(KubeaszLayout layout) : GuideLayoutTests<KubeaszLayout>(layout)
{
    // the deploy node's copies of every node's files (ezctl's cluster folder), and calico's, which no unit uses
    protected override IReadOnlyList<string> WorkingFolders(string node) => ["/etc/kubeasz", "/etc/calico"];

    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => node == "master"
        ? new Dictionary<string, string>()
        : new Dictionary<string, string>
        {
            ["/"] = "has no private key on this node",
        };
}

/// <summary>The /opt/kubernetes/{cfg,ssl} layout: settings in EnvironmentFile= with continuations, CA keys beside the CAs.</summary>
public sealed class OptLayoutGuideTests(OptLayout layout) : GuideLayoutTests<OptLayout>(layout)
{
    // the write-up's cfssl working folders
    protected override IReadOnlyList<string> WorkingFolders(string node) => ["/root/TLS"];

    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => new Dictionary<string, string>();

    [Fact]
    public void CheckExpiration_AfterRenewingTheBootstrappedKubelet_ShowsEachOfItsFilesOnceForWhatItIs()
    {
        var root = Layout.Copy("worker");
        var kubeletCrt = OptLayout.CertificateDirectory + "/kubelet.crt";
        var before = Lines(CliRun.Invoke("check-expiration", "--root", root).Output);

        // client-go's kubelet.crt: its leaf among the certificates, its throwaway CA among the authorities
        var leaves = before.TakeWhile(l => l.Length > 0).ToList();
        Assert.Single(leaves, l => l.StartsWith(kubeletCrt + " ", StringComparison.Ordinal) && l.EndsWith("ok, kubelet self-signed", StringComparison.Ordinal));
        var authorities = before.SkipWhile(l => l.Length > 0).ToList();
        Assert.Single(authorities, l => l.StartsWith(kubeletCrt + " ", StringComparison.Ordinal) && l.EndsWith("ok, kubelet's throwaway CA", StringComparison.Ordinal));
        var oldClient = OptLayout.CertificateDirectory + "/" + Path.GetFileName(new FileInfo(Path.Combine(root, OptLayout.ClientLink.TrimStart('/'))).LinkTarget!);

        Assert.Equal(0, CliRun.Invoke("renew", "--local", "--root", root).ExitCode);
        var after = Lines(CliRun.Invoke("check-expiration", "--root", root).Output);

        // the renewed client certificate is a new dated file; the old one is the kubelet's history, used by nothing
        var old = Assert.Single(after, l => l.StartsWith(oldClient + " ", StringComparison.Ordinal));
        Assert.Matches(@" - +EXPIRING, kubelet's old, unused$", old);
        Assert.DoesNotContain(after, l => l.StartsWith(kubeletCrt + " ", StringComparison.Ordinal) && l.Contains("throwaway", StringComparison.Ordinal));
        Assert.Single(after, l => l.StartsWith(OptLayout.CertificateDirectory + "/kubelet-client-", StringComparison.Ordinal) && l.Contains(" kubelet ", StringComparison.Ordinal) && l.EndsWith(" ok", StringComparison.Ordinal));
    }

    private static List<string> Lines(string output) => [.. output.ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd())];
}

/// <summary>kubernetes-the-hard-way, openssl edition: files named only in KubeletConfiguration and the other component configs.</summary>
public sealed class HardWayGuideTests(HardWayLayout layout) : GuideLayoutTests<HardWayLayout>(layout)
{
    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => node == "master"
        ? new Dictionary<string, string>()
        : new Dictionary<string, string> { ["/"] = "has no private key on this node" };
}

/// <summary>kubernetes-the-hard-way 1.21.0, cfssl edition.</summary>
public sealed class HardWayCfsslGuideTests(HardWayCfsslLayout layout) : GuideLayoutTests<HardWayCfsslLayout>(layout)
{
    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => node == "master"
        ? new Dictionary<string, string>()
        : new Dictionary<string, string> { ["/"] = "has no private key on this node" };
}

/// <summary>rootsongjc/kubernetes-handbook: old-style units with EnvironmentFile=-/etc/kubernetes/config plus each component's
/// file, one shared kubernetes.pem, ca-key.pem copied to every node, a bootstrapped kubelet without rotation.</summary>
public sealed class HandbookGuideTests(HandbookLayout layout) : GuideLayoutTests<HandbookLayout>(layout)
{
    // the guide's cfssl working folder on the first master
    protected override IReadOnlyList<string> WorkingFolders(string node) => ["/root/ssl"];

    protected override IReadOnlyDictionary<string, string> LeftAlone(string node) => new Dictionary<string, string>();
}
