using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Signing;
using CertFleet.Pki.Certificates;

namespace CertFleet.Coordinator.Tests.Signing;

/// <summary>Who may hold which identity, on certificates made in-process (the rules need no CA).</summary>
public sealed class NodeIdentitiesTests
{
    [Theory]
    [InlineData("CN=system:kube-proxy")]
    [InlineData("O=system:nodes, CN=system:node:worker-1")]
    [InlineData("CN=calico-node")]
    public void RefusalOf_WorkersOwnOrHarmlessIdentityOnWorker_Allowed(string subject)
    {
        Assert.Null(NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate(subject)));
    }

    [Theory]
    [InlineData("O=system:masters, CN=anything", "O=system:masters")]
    [InlineData("CN=kubernetes", "CN=kubernetes")]
    [InlineData("CN=admin", "CN=admin")]
    [InlineData("CN=system:kube-apiserver", "CN=system:kube-apiserver")]
    [InlineData("CN=kube-apiserver-proxy-client", "CN=kube-apiserver-proxy-client")]
    [InlineData("CN=kube-etcd-healthcheck", "CN=kube-etcd-healthcheck")]
    public void RefusalOf_ControlPlaneIdentityOnWorker_RefusedNamingWhy(string subject, string why)
    {
        var reason = NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate(subject));

        Assert.NotNull(reason);
        Assert.StartsWith(why, reason, StringComparison.Ordinal);
        Assert.Null(NodeIdentities.RefusalOf("master-1", NodeRole.Master, Certificate(subject)));
    }

    [Theory]
    [InlineData("kubernetes.default.svc")]
    [InlineData("etcd-0.cluster.local")]
    public void RefusalOf_ServerCertificateForApiserverOrEtcdNamesOnWorker_Refused(string dnsName)
    {
        var reason = NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate("CN=innocent-looking", serverAuth: true, dnsName));

        Assert.Contains($"a server certificate for DNS:{dnsName}", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusalOf_ClientCertificateNamingEtcdInItsSansOnWorker_Allowed()
    {
        Assert.Null(NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate("CN=flannel", serverAuth: false, "etcd.example")));
    }

    [Fact]
    public void RefusalOf_MultiValuedRdnOnWorker_RefusedBecauseItCouldHideSystemMasters()
    {
        var reason = NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate(MultiValued()));

        Assert.Contains("multi-valued", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusalOf_OwnKubeletIdentityAlsoClaimingSystemMastersOnWorker_Refused()
    {
        var reason = NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate("O=system:nodes, O=system:masters, CN=system:node:worker-1"));

        Assert.StartsWith("O=system:masters", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusalOf_KubeletWithExtraOrganizationOnWorker_Refused()
    {
        var reason = NodeIdentities.RefusalOf("worker-1", NodeRole.Worker, Certificate("O=system:nodes, O=team-a, CN=system:node:worker-1"));

        Assert.Contains("renewed only with O=system:nodes", reason, StringComparison.Ordinal);
    }

    private static CertificateInfo Certificate(string subject, bool serverAuth = false, string? dnsName = null) =>
        Certificate(new X500DistinguishedName(subject), serverAuth, dnsName);

    private static CertificateInfo Certificate(X500DistinguishedName subject, bool serverAuth = false, string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (dnsName is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(dnsName);
            request.CertificateExtensions.Add(names.Build());
        }
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return CertificateInfo.Parse(certificate.RawData, subject.Name);
    }

    /// <summary>CN=system:node:worker-1 + O=system:masters in one RDN (a SET with two values).</summary>
    private static X500DistinguishedName MultiValued()
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSetOf())
        {
            foreach (var (oid, value) in new[] { ("2.5.4.3", "system:node:worker-1"), ("2.5.4.10", "system:masters") })
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(System.Formats.Asn1.UniversalTagNumber.UTF8String, value);
                }
            }
        }
        return new X500DistinguishedName(writer.Encode());
    }
}
