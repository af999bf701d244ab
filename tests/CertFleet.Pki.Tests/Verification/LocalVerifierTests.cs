using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Tests.Renewal;
using CertFleet.Pki.Verification;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Verification;

public sealed class LocalVerifierTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private static VerificationReport Verify(string root, int warnDays = 30)
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        return new LocalVerifier(TimeProvider.System).Verify(inventory, TimeSpan.FromDays(warnDays));
    }

    [Fact]
    public void Verify_FixtureWithTenDaysLeft_ReportsEveryCertificateAsExpiringSoon()
    {
        var report = Verify(pki.NodeRoot("master-1"));

        Assert.False(report.Passed);
        Assert.Contains(report.Problems, p => p.Path == "/etc/kubernetes/pki/apiserver.crt" && p.Problem.Contains("within 30 days", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Problems, p => p.Problem.Contains("does not match", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_AfterRenewalWithCa_PassesWithNoProblems()
    {
        var root = pki.CopyNode("master-1");
        RenewalRun.Renew(root, authorities: true);

        var report = Verify(root);

        Assert.True(report.Passed, string.Join("\n", report.Problems));
        Assert.Equal(17, report.CertificatesChecked);
    }

    [Fact]
    public void Verify_SwappedKeyAndMissingUnitFile_NamesBothProblems()
    {
        var root = pki.CopyNode("worker-1");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        File.Copy(Path.Combine(pkiDir, "kube-proxy.key"), Path.Combine(pkiDir, "worker-1.key"), overwrite: true);
        File.Delete(Path.Combine(pkiDir, "ca.crt"));

        var report = Verify(root, warnDays: 0);

        Assert.Contains(report.Problems, p => p.Path == "/etc/kubernetes/pki/worker-1.crt" && p.Problem == "its key /etc/kubernetes/pki/worker-1.key does not match it");
        Assert.Contains(report.Problems, p => p.Path == "/etc/kubernetes/pki/ca.crt" && p.Unit == "kubelet.service" && p.Problem.Contains("--client-ca-file", StringComparison.Ordinal));
        // the CA is still embedded in kube-proxy.kubeconfig, so the kubelet's certificate still chains
        Assert.DoesNotContain(report.Problems, p => p.Problem.Contains("does not chain", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_CertificateFromAForeignCa_SaysItDoesNotChain()
    {
        var root = pki.CopyNode("worker-1");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        var scratch = ScratchDirectory.Create("foreign");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=kubernetes",
            "-keyout", Path.Combine(scratch, "ca.key"), "-out", Path.Combine(scratch, "ca.crt"), "-days", "10");
        Openssl.Checked("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=intruder",
            "-keyout", Path.Combine(pkiDir, "intruder.key"), "-out", Path.Combine(scratch, "intruder.csr"));
        Openssl.Checked("x509", "-req", "-in", Path.Combine(scratch, "intruder.csr"), "-CA", Path.Combine(scratch, "ca.crt"),
            "-CAkey", Path.Combine(scratch, "ca.key"), "-days", "100", "-out", Path.Combine(pkiDir, "intruder.crt"));
        ScratchDirectory.Delete(scratch);

        var report = Verify(root, warnDays: 0);

        // same issuer name as the cluster CA, but the signature does not verify with its key
        var problem = Assert.Single(report.Problems);
        Assert.Equal("/etc/kubernetes/pki/intruder.crt", problem.Path);
        Assert.Contains("does not chain to a CA on this node", problem.Problem, StringComparison.Ordinal);
    }
}
