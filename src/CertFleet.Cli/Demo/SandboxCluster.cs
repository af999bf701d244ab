using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CertFleet.Cli.Demo;

/// <summary>
/// Writes a small binary-deployed cluster's PKI, laid out as an operator's runbook leaves it (the same layout as
/// ../shared/fixtures/make-cluster-pki.sh): one folder per node shaped like its root file system, certificates
/// and EC keys in /etc/kubernetes/pki, kubeconfigs (embedded and by file), systemd units and etcd.env. Leaves
/// expire in <see cref="SandboxLayout.LeafDaysLeft"/> days, the CAs in <see cref="SandboxLayout.CaDaysLeft"/>:
/// the situation CertFleet exists for.
/// </summary>
internal sealed class SandboxCluster(SandboxLayout layout, TimeProvider time)
{
    private const string Pki = "/etc/kubernetes/pki";

    public void Write(string directory)
    {
        var now = time.GetUtcNow();
        using var ca = NewKey();
        using var frontProxyKey = NewKey();
        var caCert = SelfSignedCa("CN=kubernetes", ca, now);
        var frontProxyCa = SelfSignedCa("CN=front-proxy-ca", frontProxyKey, now);
        var shared = new Dictionary<string, (X509Certificate2 Cert, ECDsa Key)>();
        void Leaf(string name, string subject, X509Certificate2 issuer, ECDsa issuerKey, bool server, bool client, string[] sans) =>
            shared[name] = IssueLeaf(subject, issuer, issuerKey, server, client, sans, now);

        var etcdSans = new List<string> { "DNS:localhost", "IP:127.0.0.1" };
        var apiserverSans = new List<string> { "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local", "DNS:localhost", "IP:127.0.0.1", "IP:10.96.0.1" };
        for (var i = 1; i <= layout.Masters; i++)
        {
            etcdSans.AddRange([$"DNS:master-{i}", $"IP:{layout.MasterAddress(i)}"]);
            apiserverSans.AddRange([$"DNS:master-{i}", $"IP:{layout.MasterAddress(i)}"]);
        }
        Leaf("etcd-server", "CN=etcd-server", caCert, ca, true, true, [.. etcdSans]);
        Leaf("etcd-peer", "CN=etcd-peer", caCert, ca, true, true, [.. etcdSans]);
        Leaf("apiserver-etcd-client", "CN=kube-apiserver-etcd-client, O=system:masters", caCert, ca, false, true, []);
        Leaf("apiserver", "CN=kube-apiserver", caCert, ca, true, false, [.. apiserverSans]);
        Leaf("apiserver-kubelet-client", "CN=kube-apiserver-kubelet-client, O=system:masters", caCert, ca, false, true, []);
        Leaf("front-proxy-client", "CN=front-proxy-client", frontProxyCa, frontProxyKey, false, true, []);
        Leaf("kube-controller-manager", "CN=system:kube-controller-manager", caCert, ca, false, true, []);
        Leaf("kube-scheduler", "CN=system:kube-scheduler", caCert, ca, false, true, []);
        Leaf("admin", "CN=kubernetes-admin, O=system:masters", caCert, ca, false, true, []);
        Leaf("kube-proxy", "CN=system:kube-proxy", caCert, ca, false, true, []);

        var files = new SandboxFiles();
        for (var i = 1; i <= layout.Masters; i++)
        {
            var node = $"master-{i}";
            var root = Path.Combine(directory, node);
            files.Certificate(root, "ca", caCert, ca);
            files.Certificate(root, "front-proxy-ca", frontProxyCa, frontProxyKey);
            foreach (var (name, (cert, key)) in shared.Where(s => s.Key != "kube-proxy"))
            {
                files.Certificate(root, name, cert, key);
            }
            files.EmbeddedKubeconfig(root, "/etc/kubernetes/admin.conf", "kubernetes-admin", shared["admin"], caCert,
                $"https://{layout.MasterAddress(i)}:6443");
            files.FileKubeconfig(root, "/etc/kubernetes/controller-manager.kubeconfig", "system:kube-controller-manager",
                $"{Pki}/kube-controller-manager.crt", $"{Pki}/kube-controller-manager.key", "https://127.0.0.1:6443");
            files.FileKubeconfig(root, "/etc/kubernetes/scheduler.kubeconfig", "system:kube-scheduler",
                $"{Pki}/kube-scheduler.crt", $"{Pki}/kube-scheduler.key", "https://127.0.0.1:6443");
            files.MasterUnits(root, layout, i);
            WriteKubelet(files, root, node, layout.MasterAddress(i), caCert, ca, shared["kube-proxy"], now);
        }
        for (var i = 1; i <= layout.Workers; i++)
        {
            var node = $"worker-{i}";
            var root = Path.Combine(directory, node);
            files.Certificate(root, "ca", caCert, key: null);
            WriteKubelet(files, root, node, layout.WorkerAddress(i), caCert, ca, shared["kube-proxy"], now);
        }
        foreach (var (cert, key) in shared.Values)
        {
            cert.Dispose();
            key.Dispose();
        }
        caCert.Dispose();
        frontProxyCa.Dispose();
    }

    private void WriteKubelet(SandboxFiles files, string root, string node, string address, X509Certificate2 caCert, ECDsa ca,
        (X509Certificate2 Cert, ECDsa Key) kubeProxy, DateTimeOffset now)
    {
        var (cert, key) = IssueLeaf($"CN=system:node:{node}, O=system:nodes", caCert, ca, false, true, [], now);
        files.Certificate(root, node, cert, key);
        files.Certificate(root, "kube-proxy", kubeProxy.Cert, kubeProxy.Key);
        files.FileKubeconfig(root, "/etc/kubernetes/kubelet.kubeconfig", $"system:node:{node}", $"{Pki}/{node}.crt", $"{Pki}/{node}.key",
            $"https://{layout.MasterAddress(1)}:6443");
        files.EmbeddedKubeconfig(root, "/etc/kubernetes/kube-proxy.kubeconfig", "system:kube-proxy", kubeProxy, caCert,
            $"https://{layout.MasterAddress(1)}:6443");
        files.NodeUnits(root, node, address);
        cert.Dispose();
        key.Dispose();
    }

    private static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private X509Certificate2 SelfSignedCa(string subject, ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(layout.CaDaysLeft));
    }

    private (X509Certificate2 Cert, ECDsa Key) IssueLeaf(string subject, X509Certificate2 issuer, ECDsa issuerKey, bool server, bool client,
        string[] sans, DateTimeOffset now)
    {
        var key = NewKey();
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection();
        if (server)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        }
        if (client)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (sans.Length > 0)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var san in sans)
            {
                if (san.StartsWith("IP:", StringComparison.Ordinal))
                {
                    names.AddIpAddress(IPAddress.Parse(san[3..]));
                }
                else
                {
                    names.AddDnsName(san[4..]);
                }
            }
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var signer = X509SignatureGenerator.CreateForECDsa(issuerKey);
        var certificate = request.Create(issuer.SubjectName, signer, now.AddDays(-1), now.AddDays(layout.LeafDaysLeft), serial);
        return (certificate, key);
    }
}

/// <summary>Sizes and loopback addresses of a sandbox cluster.</summary>
internal sealed record SandboxLayout(int Masters, int Workers, string MasterNetwork, string WorkerNetwork)
{
    public int LeafDaysLeft { get; init; } = 10;

    public int CaDaysLeft { get; init; } = 30;

    public string MasterAddress(int index) => $"{MasterNetwork}.{10 + index}";

    public string WorkerAddress(int index) => $"{WorkerNetwork}.{10 + index}";

    public IEnumerable<string> Nodes =>
        Enumerable.Range(1, Masters).Select(i => $"master-{i}").Concat(Enumerable.Range(1, Workers).Select(i => $"worker-{i}"));
}
