using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Cli.Tests.Output;

/// <summary>`certfleet status` during a CA re-key: which CA each certificate chains to, as the coordinator says.</summary>
public sealed class RekeyStatusOutputTests
{
    private const string Old = "kubernetes (key 1a2b3c4d, old: being re-keyed)";
    private const string New = "kubernetes (key 9f8e7d6c, new: from a re-key)";

    [Fact]
    public void WriteTable_ReKeyRunning_CountsTheLeavesOfEachCaAndTheirNodes()
    {
        var output = new StringWriter();

        FleetStatusOutput.WriteTable(output, Status((Old, 2), (New, 3)), null, DateTimeOffset.UtcNow);

        // master-1 holds every leaf, worker-1 one of each CA
        var rows = output.ToString().Split('\n').Select(l => System.Text.RegularExpressions.Regex.Split(l.Trim(), " {2,}")).ToList();
        Assert.Contains(rows, r => r is ["ISSUED BY", "CERTIFICATES", "NODES"]);
        Assert.Contains(rows, r => r is [Old, "3", "2"]);
        Assert.Contains(rows, r => r is [New, "4", "2"]);
    }

    [Fact]
    public void WriteTable_NoReKey_NoIssuerTable()
    {
        var output = new StringWriter();

        FleetStatusOutput.WriteTable(output, Status(("kubernetes (key 1a2b3c4d)", 4)), null, DateTimeOffset.UtcNow);

        Assert.DoesNotContain("ISSUED BY", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteJson_EveryCertificate_HasTheIssuerTheCoordinatorNamed()
    {
        var output = new StringWriter();

        FleetStatusOutput.WriteJson(output, Status((Old, 1), (New, 1)), null, DateTimeOffset.UtcNow);

        using var json = JsonDocument.Parse(output.ToString());
        var issuers = json.RootElement.GetProperty("nodes").EnumerateArray()
            .SelectMany(n => n.GetProperty("certificates").EnumerateArray()).Select(c => c.GetProperty("issuedBy").GetString()).ToList();
        Assert.Equal([Old, New, Old, New], issuers);
    }

    /// <summary>Two nodes, each with <c>count</c> leaves issued by each named CA.</summary>
    private static StatusResponse Status(params (string IssuedBy, int Count)[] issuers)
    {
        var status = new StatusResponse();
        foreach (var node in new[] { "master-1", "worker-1" })
        {
            var reported = new NodeStatus { Name = node, Role = "worker", Connected = true };
            foreach (var (issuedBy, count) in issuers)
            {
                for (var i = 0; i < count; i++)
                {
                    // only one of the two nodes holds all of them: the NODES column counts nodes, not certificates
                    if (node == "worker-1" && i > 0)
                    {
                        continue;
                    }
                    reported.Certificates.Add(new ReportedCertificate { Der = ByteString.CopyFrom(Leaf($"leaf-{i}")), Path = $"/etc/kubernetes/pki/leaf-{i}.crt", IssuedBy = issuedBy });
                }
            }
            status.Nodes.Add(reported);
        }
        return status;
    }

    private static byte[] Leaf(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return certificate.RawData;
    }
}
