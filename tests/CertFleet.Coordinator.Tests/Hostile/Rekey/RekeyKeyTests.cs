using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Hostile.Rekey;

/// <summary>
/// A re-key sends a new CA key to a master only when it proves it holds the old one. A master whose agent answers the
/// proof with a CSR signed by another key (it reports the CA key but cannot sign with it) gets no key at all.
/// </summary>
public sealed class RekeyKeyTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task SwitchSigning_MasterCannotProveTheOldKey_RefusedAuditedAndNoKeySent()
    {
        using var bed = FleetTestbed.Create(fixture);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // the CA's name, signed by a key that is not the CA's: what a node that only claims the key can send
        bed.Gateway.TamperCsr = (node, entry, csr) => node == "master-2" && entry.Certificate.IsCa
            ? new CertificateRequest(new X500DistinguishedName(entry.Certificate.SubjectDer), otherKey, HashAlgorithmName.SHA256).CreateSigningRequest()
            : csr;

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true, RekeyCa = new RekeyCa() }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.True(rollout.HaltReason.Contains("master-2 did not prove it holds an old CA's key", StringComparison.Ordinal), rollout.HaltReason);
        Assert.DoesNotContain(bed.Gateway.RekeyRequests, r => r.Node == "master-2" && r.Request.Authorities.Any(a => a.NewCaKeyPem.Length > 0));
        Assert.Contains(bed.Gateway.RekeyRequests, r => r.Node == "master-1" && r.Request.Authorities.Any(a => a.NewCaKeyPem.Length > 0));
        var audit = bed.Audit.Read(null, null);
        Assert.Contains(audit, e => e.Kind == AuditKinds.Refused && e.Node == "master-2" && e.Reason.Contains("did not prove", StringComparison.Ordinal));
        Assert.DoesNotContain(audit, e => e.Kind == AuditKinds.CaKeySent && e.Node == "master-2");
        Assert.Contains(audit, e => e.Kind == AuditKinds.CaKeySent && e.Node == "master-1");
    }
}
