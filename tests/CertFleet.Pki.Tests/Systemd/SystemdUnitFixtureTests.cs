using System.Text.RegularExpressions;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.Systemd;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Systemd;

/// <summary>The units the shared fixture writes: what they reference must be the real files on the node.</summary>
public sealed partial class SystemdUnitFixtureTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private string Master => pki.NodeRoot("master-1");

    [Fact]
    public void Parse_KubeApiserverServiceWithContinuations_ReferencesEveryPkiFileItNames()
    {
        var (unit, text) = Load(Master, "kube-apiserver.service");

        var argv = Assert.Single(unit.ExecStart);
        Assert.Equal("/usr/local/bin/kube-apiserver", argv[0]);
        Assert.Contains("--authorization-mode=Node,RBAC", argv);
        Assert.Equal("/etc/kubernetes/pki/apiserver.crt", unit.GetSetting("--tls-cert-file"));
        Assert.Equal("https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379", unit.GetSetting("--etcd-servers"));
        var named = PkiPath().Matches(text).Select(m => m.Value).ToHashSet();
        Assert.Equal(named, unit.FileReferences.Select(r => r.Path).ToHashSet());
        Assert.All(unit.FileReferences, r =>
        {
            Assert.Equal("kube-apiserver.service", r.Unit);
            Assert.True(File.Exists(OnNode(Master, r.Path)), r.Path);
        });
        Assert.Contains(new UnitFileReference("kube-apiserver.service", "--etcd-cafile", "/etc/kubernetes/pki/ca.crt"),
            unit.FileReferences);
        Assert.DoesNotContain(unit.FileReferences, r => r.Setting is "--etcd-servers" or "--service-account-issuer");
    }

    [Fact]
    public void Parse_EtcdServiceWithEnvironmentFile_ReferencesComeFromTheEnvFileAndChainToTheTrustedCa()
    {
        var (unit, _) = Load(Master, "etcd.service");

        Assert.Equal([new EnvironmentFileReference("/etc/etcd/etcd.env", false)], unit.EnvironmentFiles);
        Assert.Equal(["/usr/local/bin/etcd"], Assert.Single(unit.ExecStart));
        Assert.Equal("master-1", unit.GetSetting("ETCD_NAME"));
        var settings = unit.FileReferences.ToDictionary(r => r.Setting, r => r.Path);
        Assert.Equal("/etc/kubernetes/pki/etcd-server.crt", settings["ETCD_CERT_FILE"]);
        Assert.Equal("/etc/kubernetes/pki/etcd-peer.key", settings["ETCD_PEER_KEY_FILE"]);
        Assert.False(settings.ContainsKey("ETCD_DATA_DIR"));
        var verify = Openssl.Verify(OnNode(Master, settings["ETCD_TRUSTED_CA_FILE"]), OnNode(Master, settings["ETCD_CERT_FILE"]));
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }

    [Fact]
    public void Parse_KubeletService_KubeconfigFlagLeadsToTheClientCertificate()
    {
        var (unit, _) = Load(pki.NodeRoot("worker-1"), "kubelet.service");

        var kubeconfigPath = unit.GetSetting("--kubeconfig");
        Assert.Equal("/etc/kubernetes/kubelet.kubeconfig", kubeconfigPath);
        Assert.Contains(unit.FileReferences, r => r.Setting == "--client-ca-file" && r.Path == "/etc/kubernetes/pki/ca.crt");
        Assert.DoesNotContain(unit.FileReferences, r => r.Setting is "--hostname-override" or "--node-ip");
        var kubeconfigFile = OnNode(pki.NodeRoot("worker-1"), kubeconfigPath!);
        var kubeconfig = Kubeconfig.Parse(File.ReadAllText(kubeconfigFile), kubeconfigFile);
        var certificate = OnNode(pki.NodeRoot("worker-1"), kubeconfig.Users[0].ClientCertificate!.Text);
        Assert.Equal("CN=system:node:worker-1,O=system:nodes", Openssl.Subject(certificate)["subject=".Length..]);
    }

    [Fact]
    public void Parse_EtcdServiceWhoseEnvironmentFileIsMissing_ThrowsPkiExceptionNamingUnitLineAndFile()
    {
        var node = pki.CopyNode("master-1");
        File.Delete(Path.Combine(node, "etc/etcd/etcd.env"));

        var error = Assert.Throws<PkiException>(() => Load(node, "etcd.service"));

        Assert.Contains("etcd.service: line 7", error.Message);
        Assert.Contains("/etc/etcd/etcd.env", error.Message);
    }

    private static (SystemdUnit Unit, string Text) Load(string node, string unitName)
    {
        var text = File.ReadAllText(Path.Combine(node, "etc/systemd/system", unitName));
        return (SystemdUnit.Parse(unitName, text, [], path => File.Exists(OnNode(node, path)) ? File.ReadAllText(OnNode(node, path)) : null), text);
    }

    private static string OnNode(string node, string path) => Path.Combine(node, path.TrimStart('/'));

    [GeneratedRegex(@"/etc/kubernetes/pki/[\w.-]+")]
    private static partial Regex PkiPath();
}
