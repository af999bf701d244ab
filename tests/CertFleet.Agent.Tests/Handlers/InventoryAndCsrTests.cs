using System.Text.Json;
using CertFleet.Agent.Handlers;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Handlers;

public sealed class InventoryAndCsrTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Theory]
    [InlineData("master-1")]
    [InlineData("worker-1")]
    public void InventoryHandler_FixtureNode_ReportsWhatCheckExpirationShows(string node)
    {
        using var agent = new AgentUnderTest(pki.NodeRoot(node));

        var report = agent.Get<InventoryHandler>().Handle();

        var expected = CheckExpiration(pki.NodeRoot(node));
        var actual = report.Certificates.Select(c =>
        {
            var info = CertificateInfo.Parse(c.Der.Span, c.Path);
            bool? keyMatches = c.KeyState switch { KeyState.Matches => true, KeyState.Mismatch => false, _ => null };
            return $"{c.Path}|{c.KubeconfigUser}|{info.SerialHex}|{c.KeyPath}|{keyMatches}|{string.Join(',', c.UsedBy)}";
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        Assert.Empty(report.Errors);
        Assert.Contains(report.Certificates, c => c.Path == "/etc/kubernetes/pki/ca.crt" && c.Owner == CertificateOwner.Certfleet);
        foreach (var leaf in report.Certificates.Where(c => c.KeyState == KeyState.Matches && c.Owner == CertificateOwner.Certfleet))
        {
            var issuedBy = AgentUnderTest.LoadCertificate(Path.Combine(pki.NodeRoot(node), leaf.IssuerPath.TrimStart('/')));
            Assert.True(CertificateInfo.Parse(leaf.Der.Span, leaf.Path).IsIssuedBy(issuedBy), $"{leaf.Path} names {leaf.IssuerPath} as issuer");
        }
    }

    [Fact]
    public void CsrHandler_EveryLeafWithAKey_CsrVerifiesAndCarriesTheCertificatesKey()
    {
        var root = pki.NodeRoot("master-1");
        using var agent = new AgentUnderTest(root);
        var report = agent.Get<InventoryHandler>().Handle();
        var leaves = report.Certificates.Where(c => c.KeyState == KeyState.Matches).ToList();
        var request = new CsrRequest();
        request.Fingerprints.Add(leaves.Select(c => CertificateInfo.Parse(c.Der.Span, c.Path).Sha256Fingerprint).Distinct());

        var response = agent.Get<CsrHandler>().Handle(request);

        Assert.Equal(request.Fingerprints.Count, response.Csrs.Count);
        using var scratch = new ScratchFolder();
        foreach (var csr in response.Csrs)
        {
            Assert.Equal("", csr.Error);
            var leaf = leaves.First(c => CertificateInfo.Parse(c.Der.Span, c.Path).Sha256Fingerprint == csr.Fingerprint);
            var csrFile = scratch.Write(csr.Fingerprint + ".csr", csr.CsrDer.ToByteArray());
            var certificateFile = scratch.Write(csr.Fingerprint + ".crt", leaf.Der.ToByteArray());
            var verify = Openssl.Run("req", "-inform", "DER", "-in", csrFile, "-noout", "-verify");
            Assert.True(verify.ExitCode == 0, $"{leaf.Path}: {verify.Combined}");
            var csrKey = Openssl.Checked("req", "-inform", "DER", "-in", csrFile, "-noout", "-pubkey");
            var certificateKey = Openssl.Checked("x509", "-inform", "DER", "-in", certificateFile, "-noout", "-pubkey");
            Assert.Equal(certificateKey, csrKey);
        }
    }

    [Fact]
    public void CsrHandler_UnknownFingerprintAndKeylessCa_ErrorForEachAndNoCsr()
    {
        var root = pki.NodeRoot("worker-1");
        using var agent = new AgentUnderTest(root);
        var ca = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki/ca.crt"));
        var request = new CsrRequest { Fingerprints = { new string('A', 64), ca.Sha256Fingerprint } };

        var response = agent.Get<CsrHandler>().Handle(request);

        Assert.Collection(response.Csrs,
            unknown =>
            {
                Assert.True(unknown.CsrDer.IsEmpty);
                Assert.Contains("no certificate with fingerprint sha256:aaaa", unknown.Error);
            },
            keyless =>
            {
                Assert.True(keyless.CsrDer.IsEmpty);
                Assert.Contains("no matching private key on this node", keyless.Error);
            });
    }

    private static List<string> CheckExpiration(string root)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "certfleet.dll");
        var result = ProcessRunner.Run("dotnet", [program, "check-expiration", "--root", root, "-o", "json"], timeout: TimeSpan.FromMinutes(1));
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.EnumerateArray().Select(e =>
        {
            var keyMatches = e.GetProperty("keyMatches").ValueKind switch
            {
                JsonValueKind.True => "True",
                JsonValueKind.False => "False",
                _ => "",
            };
            var user = e.GetProperty("kubeconfigUser").ValueKind == JsonValueKind.String ? e.GetProperty("kubeconfigUser").GetString() : "";
            var keyPath = e.GetProperty("keyPath").ValueKind == JsonValueKind.String ? e.GetProperty("keyPath").GetString() : "";
            var usedBy = string.Join(',', e.GetProperty("usedBy").EnumerateArray().Select(u => u.GetString()));
            return $"{e.GetProperty("path").GetString()}|{user}|{e.GetProperty("serial").GetString()}|{keyPath}|{keyMatches}|{usedBy}";
        }).Order(StringComparer.Ordinal).ToList();
    }
}
