using System.Diagnostics;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Verification;
using CertFleet.Testing.Guides;

namespace CertFleet.Pki.Tests.Inventory;

/// <summary>Where a scan looks and how it stays bounded, tried on copies of an /opt-layout master.</summary>
public sealed class ScanPlacesTests(OptLayout layout) : IClassFixture<OptLayout>
{
    private static NodeInventory Scan(string root) => new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));

    private static string Unit(string root, string name) => Path.Combine(root, "usr/lib/systemd/system", name);

    [Fact]
    public void Scan_OptionalEnvironmentFileThatDoesNotExist_IsNoErrorAndNoProblem()
    {
        var root = layout.Copy("master");
        var unit = Unit(root, "kube-proxy.service");
        File.WriteAllText(unit, File.ReadAllText(unit).Replace("[Service]\n", "[Service]\nEnvironmentFile=-/etc/sysconfig/kube-proxy\n", StringComparison.Ordinal));

        using var inventory = Scan(root);
        var report = new LocalVerifier(TimeProvider.System).Verify(inventory, TimeSpan.Zero);

        Assert.Contains(inventory.Units, u => u.Name == "kube-proxy.service" && u.EnvironmentFiles.Any(f => f.Optional));
        Assert.Empty(inventory.Errors);
        Assert.DoesNotContain(report.Problems, p => p.Problem.Contains("sysconfig", StringComparison.Ordinal) || p.Path.Contains("sysconfig", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_CaKeyBesideACaANamedFileIsIn_IsFound()
    {
        using var inventory = Scan(layout.NodeRoot("master"));

        // etcd.service names /opt/etcd/ssl/ca.pem; ca-key.pem beside it is found by looking in that folder
        var etcdCa = Assert.Single(inventory.Certificates, e => e.Path == "/opt/etcd/ssl/ca.pem");
        Assert.Equal("/opt/etcd/ssl/ca-key.pem", etcdCa.KeyPath);
        Assert.True(etcdCa.KeyMatches);
    }

    [Fact]
    public void Scan_SystemTrustStoreNamedByAUnit_IsNotListed()
    {
        var root = layout.Copy("master");
        var bundle = Path.Combine(root, "etc/ssl/certs/ca-certificates.crt");
        Directory.CreateDirectory(Path.GetDirectoryName(bundle)!);
        File.Copy(Path.Combine(root, "opt/kubernetes/ssl/ca.pem"), bundle);
        var settings = Path.Combine(root, "opt/kubernetes/cfg/kube-apiserver.conf");
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("--v=2", "--v=2 --oidc-ca-file=/etc/ssl/certs/ca-certificates.crt", StringComparison.Ordinal));

        using var inventory = Scan(root);

        Assert.Contains(inventory.Units.Single(u => u.Name == "kube-apiserver.service").FileReferences, r => r.Setting == "--oidc-ca-file");
        Assert.DoesNotContain(inventory.Certificates, e => e.Path.StartsWith("/etc/ssl/certs/", StringComparison.Ordinal));
        Assert.Empty(inventory.Errors);
    }

    [Fact]
    public void Scan_LargeFileInASearchedFolder_IsPassedOverButANamedOneIsAnError()
    {
        var root = layout.Copy("master");
        File.WriteAllBytes(Path.Combine(root, "opt/kubernetes/ssl/etcd-snapshot.db"), new byte[3 << 20]);
        var settings = Path.Combine(root, "opt/kubernetes/cfg/kube-apiserver.conf");
        File.WriteAllBytes(Path.Combine(root, "opt/kubernetes/ssl/huge.pem"), new byte[3 << 20]);
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("--v=2", "--v=2 --oidc-ca-file=/opt/kubernetes/ssl/huge.pem", StringComparison.Ordinal));

        using var inventory = Scan(root);

        Assert.DoesNotContain(inventory.Errors, e => e.Path.EndsWith("etcd-snapshot.db", StringComparison.Ordinal));
        var error = Assert.Single(inventory.Errors, e => e.Path.EndsWith("huge.pem", StringComparison.Ordinal));
        Assert.Contains("more than the", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_NamedFolderWithThousandsOfFiles_ReadsOnlyWhatIsNamedAndSaysSo()
    {
        var root = layout.Copy("master");
        var crowded = Path.Combine(root, "opt/kubernetes/logs");
        Directory.CreateDirectory(crowded);
        for (var i = 0; i < ScanPlaces.MaxFilesPerFolder + 5; i++)
        {
            File.WriteAllText(Path.Combine(crowded, $"kube-apiserver.{i}.log"), "I1201 log line\n");
        }
        File.Copy(Path.Combine(root, "opt/kubernetes/ssl/server.pem"), Path.Combine(crowded, "audit-webhook.pem"));
        var settings = Path.Combine(root, "opt/kubernetes/cfg/kube-apiserver.conf");
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("--v=2", "--v=2 --audit-webhook-cert=/opt/kubernetes/logs/audit-webhook.pem", StringComparison.Ordinal));

        using var inventory = Scan(root);

        Assert.Contains(inventory.Certificates, e => e.Path == "/opt/kubernetes/logs/audit-webhook.pem");
        var error = Assert.Single(inventory.Errors, e => e.Path == "/opt/kubernetes/logs");
        Assert.Contains($"more than {ScanPlaces.MaxFilesPerFolder} files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_ComponentConfigThatIsAnAliasBomb_IsReadQuicklyWithoutBlowingUp()
    {
        var root = layout.Copy("master");
        var bomb = new System.Text.StringBuilder("kind: KubeletConfiguration\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 'b'; level <= 'k'; level++)
        {
            var previous = (char)(level - 1);
            bomb.Append(level).Append(": &").Append(level).Append(" [").Append(string.Join(", ", Enumerable.Repeat("*" + previous, 10))).Append("]\n");
        }
        bomb.Append("tlsCertFile: /opt/kubernetes/ssl/server.pem\n");
        File.WriteAllText(Path.Combine(root, "opt/kubernetes/cfg/kubelet-config.yml"), bomb.ToString());
        var clock = Stopwatch.StartNew();

        using var inventory = Scan(root);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the scan took {clock.Elapsed}");
        Assert.Contains(inventory.Units.Single(u => u.Name == "kubelet.service").FileReferences,
            r => r.Setting == "tlsCertFile" && r.Source == "/opt/kubernetes/cfg/kubelet-config.yml");
    }

    [Fact]
    public void Scan_ComponentConfigThatIsNotYaml_IsAnErrorNamingTheFileAndLine()
    {
        var root = layout.Copy("master");
        File.WriteAllText(Path.Combine(root, "opt/kubernetes/cfg/kube-proxy-config.yml"), "kind: KubeProxyConfiguration\nclientConnection: [unclosed\n");

        using var inventory = Scan(root);

        var error = Assert.Single(inventory.Errors, e => e.Path == "/opt/kubernetes/cfg/kube-proxy-config.yml");
        Assert.Contains("line", error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
    }
}
