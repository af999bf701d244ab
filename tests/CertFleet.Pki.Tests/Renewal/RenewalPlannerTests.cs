using CertFleet.Pki.Authorities;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Pki.Tests.Renewal;

public sealed class RenewalPlannerTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private static RenewalPlan Plan(string root, RenewalOptions options, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        using var inventory = new NodeScanner(time).Scan(new NodeRoot(root));
        return new RenewalPlanner(time).Plan(inventory, options);
    }

    [Fact]
    public void Plan_WorkerWithoutCaKey_SkipsEveryLeafSayingTheCaKeyIsElsewhere()
    {
        var plan = Plan(pki.NodeRoot("worker-1"), new RenewalOptions());

        Assert.True(plan.IsEmpty);
        // kube-proxy.crt and its copy in kube-proxy.kubeconfig are one certificate, skipped once
        Assert.Equal(["/etc/kubernetes/pki/kube-proxy.crt", "/etc/kubernetes/pki/worker-1.crt"],
            plan.Skipped.Select(s => s.Path).Order(StringComparer.Ordinal));
        Assert.All(plan.Skipped, s => Assert.Contains("has no private key on this node", s.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_WorkerWithItsCaKeyFromOutside_RenewsKubeletAndKubeProxySkippingNothing()
    {
        var masterPki = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
        using var ca = ClusterAuthorityReader.Load(new ClusterAuthorityFiles(Path.Combine(masterPki, "ca.crt"), Path.Combine(masterPki, "ca.key")));
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(pki.NodeRoot("worker-1")),
            [new TrustedAuthority(ca.Certificate, "/srv/ca/ca.crt")]);

        var plan = new RenewalPlanner(TimeProvider.System).Plan(inventory, new RenewalOptions { OutsideKeys = [ca.Key] });

        Assert.Empty(plan.Skipped);
        Assert.Empty(plan.Authorities);
        Assert.Equal(["CN=system:kube-proxy", "CN=system:node:worker-1,O=system:nodes"], plan.Leaves.Select(l => l.Current.Subject).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Plan_WithoutCa_WarnsWhenTheCaExpiresBeforeTheRenewedLeavesAndPointsToCa()
    {
        var plan = Plan(pki.NodeRoot("master-1"), new RenewalOptions());

        Assert.Empty(plan.Authorities);
        Assert.Equal(11, plan.Leaves.Count);
        var warning = Assert.Single(plan.Warnings, w => w.Contains("CN=kubernetes ", StringComparison.Ordinal));
        Assert.Contains("--ca", warning, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/pki/ca.crt", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_WithCaAndShortLeafValidity_RenewsBothCasFirstAndWarnsOfNothing()
    {
        var plan = Plan(pki.NodeRoot("master-1"), new RenewalOptions { RenewAuthorities = true, LeafValidity = TimeSpan.FromDays(20) });

        Assert.Equal(["CN=front-proxy-ca", "CN=kubernetes"], plan.Authorities.Select(a => a.Current.Subject).Order(StringComparer.Ordinal));
        Assert.All(plan.Authorities, a => Assert.True(a.IsSelfSigned));
        Assert.Empty(plan.Warnings);
        // the CA file, and its copies in admin.conf and kube-proxy.kubeconfig
        var ca = plan.Authorities.Single(a => a.Current.Subject == "CN=kubernetes");
        Assert.Equal("/etc/kubernetes/pki/ca.crt", ca.Occurrences[0].Path);
        Assert.Equal(3, ca.Occurrences.Count);
    }

    [Fact]
    public void Plan_MasterNode_ListsUnitsToRestartInTheRunbooksOrder()
    {
        var plan = Plan(pki.NodeRoot("master-1"), new RenewalOptions());

        Assert.Equal(
            ["etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service", "kubelet.service", "kube-proxy.service"],
            plan.UnitsToRestart);
    }

    [Fact]
    public void Plan_NewExpiry_FollowsDaysFromNowAndIsNotCappedAtTheCa()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var plan = Plan(pki.NodeRoot("master-1"), new RenewalOptions { LeafValidity = TimeSpan.FromDays(400) }, time);

        Assert.All(plan.Leaves, l => Assert.Equal(time.GetUtcNow().AddDays(400), l.NewNotAfter));
        Assert.All(plan.Leaves, l => Assert.True(l.NewNotAfter > l.Issuer.NotAfter));
    }
}

public sealed class RenewalPlannerKubeletRotationTests(KubeletRotationPkiFixture pki) : IClassFixture<KubeletRotationPkiFixture>
{
    [Fact]
    public void Plan_RotatingKubelet_LeavesTheRotatedCertificateToItAndRenewsItsSelfSignedServingPair()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(pki.NodeRoot("master-1")));
        var plan = new RenewalPlanner(TimeProvider.System).Plan(inventory, new RenewalOptions());

        Assert.Contains(plan.Skipped, s => s.Path.StartsWith("/var/lib/kubelet/pki/kubelet-client-", StringComparison.Ordinal)
            && s.Reason.Contains("kubelet rotates this certificate itself (--rotate-certificates=true)", StringComparison.Ordinal));
        // the kubelet never renews the pair it made for itself: renewed self-signed, with its own key, as a leaf
        var serving = Assert.Single(plan.Leaves, l => l.Occurrences.Any(o => o.Path.StartsWith("/var/lib/kubelet", StringComparison.Ordinal)));
        Assert.Equal("/var/lib/kubelet/pki/kubelet.crt", serving.Occurrences[0].Path);
        Assert.True(serving.IsKubeletServing);
        Assert.Same(serving.Key, serving.IssuerKey);
        Assert.Equal(11, plan.Leaves.Count);
        Assert.Empty(plan.Removals);
    }
}
