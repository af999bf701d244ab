using CertFleet.Pki.Kubeconfigs;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Kubeconfigs;

/// <summary>The kubeconfigs the shared fixture writes, checked against openssl and the certificate files.</summary>
public sealed class KubeconfigFixtureTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private string Master => pki.NodeRoot("master-1");

    [Fact]
    public void Parse_AdminConfWithEmbeddedData_ClientCertificateIsTheAdminCertificateForOpenssl()
    {
        var path = Path.Combine(Master, "etc/kubernetes/admin.conf");
        var kubeconfig = Kubeconfig.Parse(File.ReadAllText(path), path);

        var user = Assert.Single(kubeconfig.Users);
        Assert.Equal("kubernetes-admin", user.Name);
        Assert.Null(user.ClientCertificate);
        Assert.NotNull(user.ClientKeyData);
        var scratch = ScratchDirectory.Create("kubeconfig");
        try
        {
            var certificate = Path.Combine(scratch, "admin.crt");
            File.WriteAllBytes(certificate, Kubeconfig.DecodeData(user.ClientCertificateData!, path));
            Assert.Equal(Openssl.Subject(Path.Combine(Master, "etc/kubernetes/pki/admin.crt")), Openssl.Subject(certificate));

            var ca = Path.Combine(scratch, "ca.crt");
            var cluster = Assert.Single(kubeconfig.Clusters);
            File.WriteAllBytes(ca, Kubeconfig.DecodeData(cluster.CertificateAuthorityData!, path));
            var verify = Openssl.Verify(ca, certificate);
            Assert.True(verify.ExitCode == 0, verify.Combined);
        }
        finally
        {
            ScratchDirectory.Delete(scratch);
        }
    }

    [Fact]
    public void Parse_ControllerManagerKubeconfigWithFileReferences_ReadsPathsServerAndSpans()
    {
        var path = Path.Combine(Master, "etc/kubernetes/controller-manager.kubeconfig");
        var text = File.ReadAllText(path);
        var kubeconfig = Kubeconfig.Parse(text, path);

        var user = Assert.Single(kubeconfig.Users);
        Assert.Equal("system:kube-controller-manager", user.Name);
        Assert.Equal("/etc/kubernetes/pki/kube-controller-manager.crt", user.ClientCertificate?.Text);
        Assert.Equal("/etc/kubernetes/pki/kube-controller-manager.key", user.ClientKey?.Text);
        Assert.Null(user.ClientCertificateData);
        var cluster = Assert.Single(kubeconfig.Clusters);
        Assert.Equal("kubernetes", cluster.Name);
        Assert.Equal("https://127.0.0.1:6443", cluster.Server);
        Assert.Equal("/etc/kubernetes/pki/ca.crt", cluster.CertificateAuthority?.Text);
        foreach (var value in new[] { user.ClientCertificate!, user.ClientKey!, cluster.CertificateAuthority! })
        {
            Assert.Equal(value.Text, text[value.Start..value.End]);
            Assert.True(File.Exists(Path.Combine(Master, value.Text.TrimStart('/'))), value.Text);
        }
    }

    [Fact]
    public void Rewrite_AdminConfClientCertificateData_NewDataDecodesToTheNewCertificateAndNothingElseChanges()
    {
        var path = Path.Combine(Master, "etc/kubernetes/admin.conf");
        var text = File.ReadAllText(path);
        var kubeconfig = Kubeconfig.Parse(text, path);
        var old = kubeconfig.Users[0].ClientCertificateData!;
        var replacementFile = Path.Combine(Master, "etc/kubernetes/pki/kube-scheduler.crt");
        var encoded = Kubeconfig.EncodeData(File.ReadAllBytes(replacementFile));

        var rewritten = kubeconfig.Rewrite([new(old, encoded)]);

        Assert.Equal(text[..old.Start] + encoded + text[old.End..], rewritten);
        var reread = Kubeconfig.Parse(rewritten, path);
        Assert.Equal(kubeconfig.Users[0].ClientKeyData!.Text, reread.Users[0].ClientKeyData!.Text);
        var scratch = ScratchDirectory.Create("kubeconfig");
        try
        {
            var certificate = Path.Combine(scratch, "client.crt");
            File.WriteAllBytes(certificate, Kubeconfig.DecodeData(reread.Users[0].ClientCertificateData!, path));
            Assert.Equal(Openssl.Subject(replacementFile), Openssl.Subject(certificate));
        }
        finally
        {
            ScratchDirectory.Delete(scratch);
        }
    }

    [Theory]
    [InlineData("etc/kubernetes/admin.conf", true)]
    [InlineData("etc/kubernetes/kubelet.kubeconfig", true)]
    [InlineData("etc/systemd/system/kubelet.service", false)]
    [InlineData("etc/etcd/etcd.env", false)]
    [InlineData("etc/kubernetes/pki/ca.crt", false)]
    public void LooksLikeKubeconfig_FixtureFiles_TellsKubeconfigsFromOtherFiles(string file, bool expected)
    {
        Assert.Equal(expected, Kubeconfig.LooksLikeKubeconfig(File.ReadAllText(Path.Combine(Master, file))));
    }
}
