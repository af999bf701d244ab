using System.Globalization;
using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

public sealed class CheckExpirationCommandTests(ExpiredNodePkiFixture pki) : IClassFixture<ExpiredNodePkiFixture>
{
    private static readonly string[] ContractFields =
        ["path", "kubeconfigUser", "subject", "issuer", "serial", "notBefore", "notAfter", "residualSeconds", "isCa", "sans", "keyPath", "keyMatches", "usedBy"];

    [Fact]
    public void CheckExpiration_Json_PrintsOneArrayWithExactlyTheContractFieldsForEveryManifestCertificate()
    {
        var (exitCode, output, error) = CliRun.Invoke("check-expiration", "--root", pki.NodeRoot("master-1"), "-o", "json");

        Assert.Equal(0, exitCode);
        Assert.Empty(error);
        using var json = JsonDocument.Parse(output);
        var elements = json.RootElement.EnumerateArray().ToList();
        Assert.All(elements, e => Assert.Equal(ContractFields, e.EnumerateObject().Select(p => p.Name)));
        foreach (var row in pki.Manifest().Where(r => r.Node == "master-1"))
        {
            var element = Assert.Single(elements, e => e.GetProperty("path").GetString() == row.Path);
            Assert.Equal(row.Subject, element.GetProperty("subject").GetString());
            Assert.Equal(row.Issuer, element.GetProperty("issuer").GetString());
            var file = Path.Combine(pki.NodeRoot("master-1"), row.Path.TrimStart('/'));
            Assert.Equal(Openssl.Serial(file), element.GetProperty("serial").GetString());
            var notAfter = DateTimeOffset.ParseExact(row.NotAfter, "MMM d HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture,
                DateTimeStyles.AllowInnerWhite | DateTimeStyles.AssumeUniversal);
            Assert.Equal(notAfter, DateTimeOffset.Parse(element.GetProperty("notAfter").GetString()!, CultureInfo.InvariantCulture));
            Assert.EndsWith("Z", element.GetProperty("notAfter").GetString(), StringComparison.Ordinal);
        }
        var apiserver = elements.Single(e => e.GetProperty("path").GetString() == "/etc/kubernetes/pki/apiserver.crt");
        Assert.Contains("DNS:kubernetes.default.svc", apiserver.GetProperty("sans").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("IP:127.0.0.1", apiserver.GetProperty("sans").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("/etc/kubernetes/pki/apiserver.key", apiserver.GetProperty("keyPath").GetString());
        Assert.True(apiserver.GetProperty("keyMatches").GetBoolean());
        Assert.False(apiserver.GetProperty("isCa").GetBoolean());
        Assert.Equal(["kube-apiserver.service"], apiserver.GetProperty("usedBy").EnumerateArray().Select(s => s.GetString()));
        var admin = elements.Single(e => e.GetProperty("kubeconfigUser").GetString() == "kubernetes-admin");
        Assert.Equal("/etc/kubernetes/admin.conf", admin.GetProperty("path").GetString());
    }

    [Fact]
    public void CheckExpiration_Json_GivesNegativeResidualForAnExpiredCertificateAndNullKeyWhereThereIsNone()
    {
        var (_, output, _) = CliRun.Invoke("check-expiration", "--root", pki.NodeRoot("worker-1"), "-o", "json");

        using var json = JsonDocument.Parse(output);
        var elements = json.RootElement.EnumerateArray().ToList();
        var kubelet = elements.Single(e => e.GetProperty("path").GetString() == "/etc/kubernetes/pki/worker-1.crt");
        Assert.InRange(kubelet.GetProperty("residualSeconds").GetInt64(), -3 * 86400, -86400);
        var ca = elements.Single(e => e.GetProperty("path").GetString() == "/etc/kubernetes/pki/ca.crt");
        Assert.True(ca.GetProperty("isCa").GetBoolean());
        Assert.Equal(JsonValueKind.Null, ca.GetProperty("keyPath").ValueKind);
        Assert.Equal(JsonValueKind.Null, ca.GetProperty("keyMatches").ValueKind);
    }

    [Fact]
    public void CheckExpiration_Table_MarksExpiredAndExpiringRowsAndNamesTheCaAndUnits()
    {
        var (exitCode, output, _) = CliRun.Invoke("check-expiration", "--root", pki.NodeRoot("worker-1"));

        Assert.Equal(0, exitCode);
        var lines = output.Split('\n');
        Assert.StartsWith("CERTIFICATE ", lines[0], StringComparison.Ordinal);
        Assert.Contains("RESIDUAL TIME", lines[0], StringComparison.Ordinal);
        Assert.Contains("USED BY", lines[0], StringComparison.Ordinal);
        var kubelet = lines.Single(l => l.StartsWith("/etc/kubernetes/pki/worker-1.crt", StringComparison.Ordinal));
        Assert.Contains("<expired>", kubelet, StringComparison.Ordinal);
        Assert.Contains("EXPIRED", kubelet, StringComparison.Ordinal);
        Assert.Contains(" ca ", kubelet, StringComparison.Ordinal);
        Assert.Contains("kubelet", kubelet, StringComparison.Ordinal);
        var proxy = lines.Single(l => l.StartsWith("/etc/kubernetes/pki/kube-proxy.crt", StringComparison.Ordinal));
        Assert.Contains("EXPIRING", proxy, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("CERTIFICATE AUTHORITY", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--root", "/nonexistent/certfleet-root")]
    [InlineData("-o", "xml")]
    [InlineData("--no-such-flag")]
    public void CheckExpiration_BadArguments_ExplainsAndExitsTwoWithoutAStackTrace(params string[] extra)
    {
        var (exitCode, output, error) = CliRun.Invoke(["check-expiration", .. extra]);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.StartsWith("certfleet: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        if (extra[0] == "--root")
        {
            Assert.Contains("/nonexistent/certfleet-root", error, StringComparison.Ordinal);
        }
    }
}
