using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// The real `certfleet` process killed with SIGKILL at each step of `renew --local` (CERTFLEET_FAULT_POINT).
/// Afterwards every certificate on the node still matches its key and chains to its CA, and running again
/// finishes the job and leaves no temporary file behind.
/// </summary>
public sealed class CrashSafetyTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Theory]
    [InlineData("backup:after-save")]
    [InlineData("renew:after-backup")]
    [InlineData("atomic-write:after-temp-written")]
    [InlineData("atomic-write:after-rename")]
    [InlineData("renew:after-file")]
    public void RenewLocal_KilledAtAStepBoundary_LeavesEveryPairMatchingAndARerunCompletes(string faultPoint)
    {
        var root = pki.CopyNode("master-1");

        var crashed = CliRun.Process(new Dictionary<string, string> { ["CERTFLEET_FAULT_POINT"] = faultPoint },
            "renew", "--local", "--ca", "--root", root);

        Assert.Equal(137, crashed.ExitCode); // 128 + SIGKILL: it really died there
        AssertEveryPairMatchesAndChains(root);

        var rerun = CliRun.Process(null, "renew", "--local", "--ca", "--root", root);
        Assert.True(rerun.ExitCode == 0, rerun.Combined);
        AssertEveryPairMatchesAndChains(root);
        Assert.DoesNotContain(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories),
            f => AtomicFile.IsTemporary(Path.GetFileName(f)));
        var verify = CliRun.Process(null, "verify", "--local", "--root", root);
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }

    private static void AssertEveryPairMatchesAndChains(string root)
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        Assert.Empty(inventory.Errors);
        foreach (var entry in inventory.Certificates)
        {
            Assert.True(entry.KeyMatches != false, $"{entry.DisplayName}: key does not match after the crash");
            Assert.True(entry.IssuerCertificate is not null, $"{entry.DisplayName}: does not chain after the crash");
        }
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        var verify = Openssl.Verify(Path.Combine(pkiDir, "ca.crt"), Path.Combine(pkiDir, "apiserver.crt"));
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }
}
