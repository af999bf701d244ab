using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;

namespace CertFleet.Coordinator.Tests.Hostile.Policy;

/// <summary>
/// The signing policy against what a compromised node could send: every case ends in a refusal that names the
/// node, the certificate and the reason, with the refusal in the audit trail and nothing issued.
/// </summary>
public sealed class HostileSigningTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string Pki = "/etc/kubernetes/pki";

    [Theory]
    [InlineData(Tamper.AnotherSubject)]
    [InlineData(Tamper.ExtraSan)]
    [InlineData(Tamper.AnotherKey)]
    [InlineData(Tamper.CaTrue)]
    [InlineData(Tamper.BrokenSignature)]
    [InlineData(Tamper.ExtraExtension)]
    public void Sign_HostileRequestForTheNodesOwnKubeletCertificate_RefusedAndAuditedNothingIssued(Tamper tamper)
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("worker-1", "worker-1");
        using (key)
        {
            var csr = HostileRequests.Make(tamper, certificate, key);

            var error = Assert.Throws<SigningRefusedException>(() => bed.Signer.Sign(Node("worker-1", NodeRole.Worker, reported), reported, csr, TimeSpan.FromDays(90)));

            Assert.Equal(("worker-1", $"{Pki}/worker-1.crt", certificate.Subject), (error.Refusal.Node, error.Refusal.Path, error.Refusal.Subject));
            Assert.Contains(HostileRequests.ExpectedReason(tamper), error.Refusal.Reason, StringComparison.Ordinal);
            AssertOnlyRefusal(bed, "worker-1", error.Refusal.Reason);
        }
    }

    [Theory]
    [InlineData("admin", "O=system:masters")]
    [InlineData("apiserver-kubelet-client", "O=system:masters")]
    [InlineData("apiserver-etcd-client", "O=system:masters")]
    [InlineData("etcd-server", "CN=etcd-server")]
    [InlineData("etcd-peer", "CN=etcd-peer")]
    [InlineData("apiserver", "CN=kube-apiserver")]
    [InlineData("kube-controller-manager", "CN=system:kube-controller-manager")]
    [InlineData("kube-scheduler", "CN=system:kube-scheduler")]
    [InlineData("front-proxy-client", "CN=front-proxy-client")]
    public void Sign_MastersCertificateCopiedOntoAWorker_RefusedAsControlPlaneIdentity(string name, string why)
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("master-1", name);
        using (key)
        {
            var csr = CertificateRequestBuilder.FromExistingCertificate(certificate, key);

            var error = Assert.Throws<SigningRefusedException>(() => bed.Signer.Sign(Node("worker-1", NodeRole.Worker, reported), reported, csr, TimeSpan.FromDays(90)));

            Assert.Contains(why, error.Refusal.Reason, StringComparison.Ordinal);
            Assert.Contains("only on nodes enrolled as masters, and worker-1 is a worker", error.Refusal.Reason, StringComparison.Ordinal);
            AssertOnlyRefusal(bed, "worker-1", error.Refusal.Reason);
        }
    }

    [Fact]
    public void Sign_MastersAdminCertificateOnAMaster_Issued()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("master-1", "admin");
        using (key)
        {
            var renewed = bed.Signer.Sign(Node("master-1", NodeRole.Master, reported), reported, CertificateRequestBuilder.FromExistingCertificate(certificate, key), TimeSpan.FromDays(90));

            var issued = Assert.Single(bed.Audit.Read(null, null));
            Assert.Equal((AuditKinds.Issued, "master-1", renewed.SerialHex, certificate.SerialHex, certificate.Subject),
                (issued.Kind, issued.Node, issued.Serial, issued.PreviousSerial, issued.Subject));
            Assert.Equal(renewed.NotAfter, issued.NotAfter.ToDateTimeOffset());
        }
    }

    [Theory]
    [InlineData("worker-1", "kube-proxy")]
    [InlineData("worker-1", "worker-1")]
    public void Sign_WorkersOwnIdentities_Issued(string node, string name)
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported(node, name);
        using (key)
        {
            var renewed = bed.Signer.Sign(Node(node, NodeRole.Worker, reported), reported, CertificateRequestBuilder.FromExistingCertificate(certificate, key), TimeSpan.FromDays(90));

            Assert.Equal(certificate.Subject, renewed.Subject);
            Assert.Equal(AuditKinds.Issued, Assert.Single(bed.Audit.Read(node, null)).Kind);
        }
    }

    [Theory]
    [InlineData(NodeRole.Worker)]
    [InlineData(NodeRole.Master)]
    public void Sign_AnotherNodesKubeletCertificate_Refused(NodeRole role)
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("worker-2", "worker-2");
        var holder = role == NodeRole.Master ? "master-1" : "worker-1";
        using (key)
        {
            var csr = CertificateRequestBuilder.FromExistingCertificate(certificate, key);

            var error = Assert.Throws<SigningRefusedException>(() => bed.Signer.Sign(Node(holder, role, reported), reported, csr, TimeSpan.FromDays(90)));

            Assert.Contains($"system:node:worker-2 is the kubelet identity of node worker-2, not of {holder}", error.Refusal.Reason, StringComparison.Ordinal);
            AssertOnlyRefusal(bed, holder, error.Refusal.Reason);
        }
    }

    [Fact]
    public void Sign_CertificateFromAForeignCa_Refused()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (der, foreignKey) = HostileRequests.FromForeignCa("worker-1", bed.Time.GetUtcNow());
        using (foreignKey)
        using (var key = PrivateKey.Parse(new PemBlock("PRIVATE KEY", foreignKey.ExportPkcs8PrivateKey(), 0, 0), "foreign key"))
        {
            var certificate = CertificateInfo.Parse(der, "foreign");
            var reported = Report(certificate, $"{Pki}/worker-1.crt");

            var error = Assert.Throws<SigningRefusedException>(() => bed.Signer.Sign(Node("worker-1", NodeRole.Worker, reported), reported,
                CertificateRequestBuilder.FromExistingCertificate(certificate, key), TimeSpan.FromDays(90)));

            Assert.Contains("not a CA this coordinator signs with", error.Refusal.Reason, StringComparison.Ordinal);
            AssertOnlyRefusal(bed, "worker-1", error.Refusal.Reason);
        }
    }

    [Fact]
    public void Sign_CertificateTheNodeDidNotReport_Refused()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("worker-1", "worker-1");
        var (other, _, otherKey) = Reported("worker-1", "kube-proxy");
        otherKey.Dispose();
        using (key)
        {
            var error = Assert.Throws<SigningRefusedException>(() => bed.Signer.Sign(Node("worker-1", NodeRole.Worker, other), reported,
                CertificateRequestBuilder.FromExistingCertificate(certificate, key), TimeSpan.FromDays(90)));

            Assert.Contains("worker-1 did not report this certificate", error.Refusal.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RefusalOf_CaCertificateOnAMaster_RefusedAsLeafRenewal()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("master-1", "ca");
        key.Dispose();

        var reason = bed.Policy.RefusalOf(Node("master-1", NodeRole.Master, reported), reported, certificate);

        Assert.Contains("renewed only with --ca", reason, StringComparison.Ordinal);
    }

    private static void AssertOnlyRefusal(FleetTestbed bed, string node, string reason)
    {
        var events = bed.Audit.Read(null, null);
        var refusal = Assert.Single(events);
        Assert.Equal((AuditKinds.Refused, node, reason, ""), (refusal.Kind, refusal.Node, refusal.Reason, refusal.Serial));
    }

    private static NodeRecord Node(string name, NodeRole role, ReportedCertificate reported) =>
        new(name, role, true, DateTimeOffset.UtcNow, new InventoryReport { Certificates = { reported } });

    private (ReportedCertificate Reported, CertificateInfo Certificate, PrivateKey Key) Reported(string node, string name)
    {
        var folder = fixture.NodeRoot(node) + Pki;
        var certificate = CertificateInfo.Parse(Pem.Read(File.ReadAllText(Path.Combine(folder, name + ".crt")), name).Single().Der, name);
        var key = PrivateKey.Parse(Pem.Read(File.ReadAllText(Path.Combine(folder, name + ".key")), name).Single(), name);
        return (Report(certificate, $"{Pki}/{name}.crt"), certificate, key);
    }

    private static ReportedCertificate Report(CertificateInfo certificate, string path) => new()
    {
        Der = ByteString.CopyFrom(certificate.Der),
        Path = path,
        KeyPath = path.Replace(".crt", ".key", StringComparison.Ordinal),
        KeyState = KeyState.Matches,
        Owner = CertificateOwner.Certfleet,
    };
}
