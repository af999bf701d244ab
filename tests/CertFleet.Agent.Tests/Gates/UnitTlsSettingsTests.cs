using CertFleet.Agent.Gates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Gates;

public sealed class UnitTlsSettingsTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public void Endpoints_MasterUnits_EtcdClientAndPeerAndApiserverSecurePortWithTheirFiles()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(pki.NodeRoot("master-1")));

        var etcd = UnitTlsSettings.Endpoints(UnitNames.Find(inventory, "etcd")!);
        var apiserver = UnitTlsSettings.Endpoints(UnitNames.Find(inventory, "kube-apiserver.service")!);
        var scheduler = UnitTlsSettings.Endpoints(UnitNames.Find(inventory, "kube-scheduler.service")!);

        Assert.Equal(
            ["etcd client 10.0.0.11:2379 /etc/kubernetes/pki/etcd-server.crt", "etcd client 127.0.0.1:2379 /etc/kubernetes/pki/etcd-server.crt", "etcd peer 10.0.0.11:2380 /etc/kubernetes/pki/etcd-peer.crt"],
            etcd.Select(e => $"{e} {e.CertificatePath}"));
        Assert.Equal(["kube-apiserver 10.0.0.11:6443 /etc/kubernetes/pki/apiserver.crt"], apiserver.Select(e => $"{e} {e.CertificatePath}"));
        Assert.Empty(scheduler);
        Assert.Equal(new Uri("https://10.0.0.11:2379"), UnitTlsSettings.EtcdClientUrl(UnitNames.Find(inventory, "etcd")!));
    }

    [Fact]
    public void Endpoints_WorkerKubelet_NodeIpPort10250AndItsServingCertificate()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(pki.NodeRoot("worker-1")));

        var kubelet = Assert.Single(UnitTlsSettings.Endpoints(UnitNames.Find(inventory, "kubelet")!));

        Assert.Equal("kubelet 10.0.1.11:10250", kubelet.ToString());
        Assert.Equal("/var/lib/kubelet/pki/kubelet.crt", kubelet.CertificatePath);
    }
}
