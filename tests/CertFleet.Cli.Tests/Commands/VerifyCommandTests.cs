using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

public sealed class VerifyCommandTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public void Verify_ExpiringFixture_ExitsOneNamingEachCertificate()
    {
        var (exitCode, output, _) = CliRun.Invoke("verify", "--local", "--root", pki.NodeRoot("worker-1"));

        Assert.Equal(1, exitCode);
        Assert.Contains("/etc/kubernetes/pki/worker-1.crt", output, StringComparison.Ordinal);
        Assert.Contains("within 30 days", output, StringComparison.Ordinal);
        Assert.Contains("problems.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AfterRenewLocalWithCa_ExitsZero()
    {
        var root = pki.CopyNode("master-2");
        Assert.Equal(0, CliRun.Invoke("renew", "--local", "--ca", "--root", root).ExitCode);

        var (exitCode, output, _) = CliRun.Invoke("verify", "--local", "--root", root);

        Assert.True(exitCode == 0, output);
        Assert.Contains("all good", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Json_ListsProblemsWithPathAndUnit()
    {
        var root = pki.CopyNode("worker-2");
        File.Delete(Path.Combine(root, "etc/kubernetes/kube-proxy.kubeconfig"));

        var (exitCode, output, _) = CliRun.Invoke("verify", "--local", "--root", root, "-o", "json", "--warn-within", "0");

        Assert.Equal(1, exitCode);
        using var json = JsonDocument.Parse(output);
        Assert.False(json.RootElement.GetProperty("passed").GetBoolean());
        var problem = Assert.Single(json.RootElement.GetProperty("problems").EnumerateArray());
        Assert.Equal("/etc/kubernetes/kube-proxy.kubeconfig", problem.GetProperty("path").GetString());
        Assert.Equal("kube-proxy.service", problem.GetProperty("unit").GetString());
    }
}
