using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

public sealed class RenewCommandTests(RsaClusterPkiFixture pki, CenturyCaPkiFixture century)
    : IClassFixture<RsaClusterPkiFixture>, IClassFixture<CenturyCaPkiFixture>
{
    [Fact]
    public void Renew_DryRun_PrintsThePlanAndTheRestartOrderAndChangesNothing()
    {
        var root = pki.CopyNode("master-1");
        var before = FolderSnapshot.Take(root);

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root, "--ca", "--dry-run");

        Assert.Equal(0, exitCode);
        Assert.Contains("Would renew 13 certificates", output, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/pki/apiserver.crt", output, StringComparison.Ordinal);
        Assert.Contains("etcd.service, kube-apiserver.service, kube-controller-manager.service, kube-scheduler.service, kubelet.service, kube-proxy.service", output, StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was changed.", output, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
        Assert.False(Directory.Exists(Path.Combine(root, "var/lib/certfleet")));
    }

    [Fact]
    public void Renew_Local_RenewsSummarisesAndPrintsTheUnitsToRestartInRunbookOrder()
    {
        var root = pki.CopyNode("master-1");

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root, "--days", "90");

        Assert.Equal(0, exitCode);
        Assert.Contains("Renewed 11 certificates in 13 files", output, StringComparison.Ordinal);
        Assert.Contains("/var/lib/certfleet/backups/", output, StringComparison.Ordinal);
        Assert.Contains("systemctl restart etcd.service && systemctl restart kube-apiserver.service", output, StringComparison.Ordinal);
        Assert.Contains("warning: CA CN=kubernetes", output, StringComparison.Ordinal);
        var notAfter = Openssl.Checked("x509", "-in", Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"), "-noout", "-checkend", (89 * 86400).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("will not expire", notAfter, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_Worker_SkipsEachCertificateWithAReasonThatSaysHowToGiveTheCaAndExitsZero()
    {
        var root = pki.CopyNode("worker-2");
        var before = FolderSnapshot.Take(root);

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root);

        Assert.Equal(0, exitCode);
        Assert.Contains("Nothing to renew on this node.", output, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/pki/worker-2.crt: its CA CN=kubernetes (/etc/kubernetes/pki/ca.crt) has no private key on this node", output, StringComparison.Ordinal);
        Assert.Contains("--ca-cert F --ca-key F", output, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    [Fact]
    public void Renew_GarbageKubeconfigAndOddlyQuotedUnit_NamesBothLeavesThemUntouchedAndRenewsTheRest()
    {
        var root = pki.CopyNode("master-1");
        var kubeconfig = Path.Combine(root, "etc/kubernetes/scheduler.kubeconfig");
        File.WriteAllText(kubeconfig, "apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user: {client-certificate: \"unterminated\n");
        var unit = Path.Combine(root, "etc/systemd/system/kube-proxy.service");
        File.WriteAllText(unit, "[Service]\nExecStart=/usr/local/bin/kube-proxy --kubeconfig=\"/etc/kubernetes/kube-proxy.kubeconfig\n");
        var kubeconfigBefore = File.ReadAllText(kubeconfig);

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root);

        Assert.Equal(0, exitCode);
        Assert.Contains("/etc/kubernetes/scheduler.kubeconfig: could not be read", output, StringComparison.Ordinal);
        Assert.Contains("kube-proxy.service", output, StringComparison.Ordinal);
        Assert.Equal(kubeconfigBefore, File.ReadAllText(kubeconfig));
        Assert.Contains("Renewed 11 certificates", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_KeyThatDoesNotMatch_IsSkippedNamingTheKeyAndItsCertificateIsNotTouched()
    {
        var root = pki.CopyNode("master-1");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        File.Copy(Path.Combine(pkiDir, "admin.key"), Path.Combine(pkiDir, "kube-scheduler.key"), overwrite: true);
        var certificateBefore = File.ReadAllText(Path.Combine(pkiDir, "kube-scheduler.crt"));

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root);

        Assert.Equal(0, exitCode);
        Assert.Contains("/etc/kubernetes/pki/kube-scheduler.crt: its key /etc/kubernetes/pki/kube-scheduler.key does not match it", output, StringComparison.Ordinal);
        Assert.Equal(certificateBefore, File.ReadAllText(Path.Combine(pkiDir, "kube-scheduler.crt")));
    }

    [Fact]
    public void Renew_CaWithACenturyLeftAndCaDays3650_KeepsTheCasNotAfterAndThePlanShowsIt()
    {
        var root = century.CopyNode("master-1");
        var original = Path.Combine(century.NodeRoot("master-1"), "etc/kubernetes/pki/ca.crt");
        var ca = Path.Combine(root, "etc/kubernetes/pki/ca.crt");
        var day = Openssl.Checked("x509", "-in", original, "-noout", "-enddate", "-dateopt", "iso_8601").Trim()["notAfter=".Length..][..10];
        var tenYears = DateTimeOffset.UtcNow.AddDays(3650).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--root", root, "--ca", "--ca-days", "3650");

        Assert.Equal(0, exitCode);
        var row = output.Split('\n').Single(l => l.StartsWith("/etc/kubernetes/pki/ca.crt", StringComparison.Ordinal));
        Assert.Equal(2, row.Split(day).Length - 1); // EXPIRES and NEW EXPIRY
        Assert.DoesNotContain(tenYears, row, StringComparison.Ordinal);
        Assert.Equal(Openssl.EndDate(original), Openssl.EndDate(ca));
        Assert.NotEqual(Openssl.Serial(original), Openssl.Serial(ca));
        var leaf = Openssl.Verify(ca, Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));
        Assert.True(leaf.ExitCode == 0, leaf.Combined);
    }

    [Theory]
    [InlineData("--days", "0")]
    [InlineData("--days", "soon")]
    [InlineData("--ca-days", "-5")]
    public void Renew_BadValidity_ExplainsAndChangesNothing(string option, string value)
    {
        var root = pki.CopyNode("worker-1");
        var before = FolderSnapshot.Take(root);

        var (exitCode, _, error) = CliRun.Invoke("renew", "--local", "--root", root, option, value);

        Assert.Equal(2, exitCode);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    [Fact]
    public void Renew_WithoutLocalAndWithoutAdminConfig_SaysWhereTheConfigComesFromAndAboutLocal()
    {
        var missing = Path.Combine(ScratchDirectory.Create("noconfig"), "admin.conf");

        var (exitCode, _, error) = CliRun.Invoke("renew", "--config", missing);

        Assert.Equal(2, exitCode);
        Assert.Contains(missing, error, StringComparison.Ordinal);
        Assert.Contains("--local", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_AdminConfigReadableByOthers_IsRefusedWithTheChmodToRun()
    {
        var config = Path.Combine(ScratchDirectory.Create("openconfig"), "admin.conf");
        File.WriteAllText(config, "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var (exitCode, _, error) = CliRun.Invoke("status", "--config", config);

        Assert.Equal(2, exitCode);
        Assert.Contains($"chmod 600 {config}", error, StringComparison.Ordinal);
    }
}
