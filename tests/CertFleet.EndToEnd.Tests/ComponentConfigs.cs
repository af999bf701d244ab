using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// worker-1 of the loopback fleet laid out with component configs, as kubernetes-the-hard-way does: kube-proxy reads
/// its kubeconfig only through KubeProxyConfiguration's clientConnection.kubeconfig, and the kubelet serves with a
/// certificate named only in KubeletConfiguration's tlsCertFile (signed by the cluster CA, 10 days left).
/// </summary>
internal static class ComponentConfigs
{
    public const string Node = "worker-1";
    public const string ServingCertificate = "/var/lib/kubelet/kubelet-serving.crt";

    public static void LayOut(LoopbackFleet fleet)
    {
        var root = fleet.NodeRoot(Node);
        var kubelet = Path.Combine(root, "var/lib/kubelet");
        Directory.CreateDirectory(kubelet);
        var pki = Path.Combine(fleet.NodeRoot("master-1"), "etc/kubernetes/pki");
        var key = Path.Combine(kubelet, "kubelet-serving.key");
        Openssl.Checked("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key);
        var csr = Path.Combine(kubelet, "serving.csr");
        Openssl.Checked("req", "-new", "-key", key, "-subj", $"/O=system:nodes/CN=system:node:{Node}", "-out", csr);
        var ext = Path.Combine(kubelet, "serving.ext");
        File.WriteAllText(ext, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            + "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:worker-1,IP:127.0.11.11\n");
        Openssl.Checked("x509", "-req", "-in", csr, "-CA", Path.Combine(pki, "ca.crt"), "-CAkey", Path.Combine(pki, "ca.key"),
            "-set_serial", "0x" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)),
            "-days", "10", "-extfile", ext, "-out", Path.Combine(root, ServingCertificate.TrimStart('/')));
        File.Delete(csr);
        File.Delete(ext);
        File.WriteAllText(Path.Combine(kubelet, "kubelet-config.yaml"), $"""
            kind: KubeletConfiguration
            apiVersion: kubelet.config.k8s.io/v1beta1
            authentication:
              x509:
                clientCAFile: "/etc/kubernetes/pki/ca.crt"
            tlsCertFile: "{ServingCertificate}"
            tlsPrivateKeyFile: "/var/lib/kubelet/kubelet-serving.key"
            """);
        Directory.CreateDirectory(Path.Combine(root, "var/lib/kube-proxy"));
        File.WriteAllText(Path.Combine(root, "var/lib/kube-proxy/kube-proxy-config.yaml"), """
            kind: KubeProxyConfiguration
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            clientConnection:
              kubeconfig: "/etc/kubernetes/kube-proxy.kubeconfig"
            mode: "iptables"
            """);
        var units = Path.Combine(root, "etc/systemd/system");
        var kubeletUnit = Path.Combine(units, "kubelet.service");
        File.WriteAllText(kubeletUnit, File.ReadAllText(kubeletUnit)
            .Replace("/usr/local/bin/kubelet \\", "/usr/local/bin/kubelet \\\n  --config=/var/lib/kubelet/kubelet-config.yaml \\", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(units, "kube-proxy.service"), """
            [Unit]
            Description=Kubernetes Kube Proxy

            [Service]
            ExecStart=/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/kube-proxy-config.yaml
            Restart=on-failure

            [Install]
            WantedBy=multi-user.target
            """);
    }

    public static void AssertServingCertificateRenewed(LoopbackFleet fleet)
    {
        var now = Path.Combine(fleet.NodeRoot(Node), ServingCertificate.TrimStart('/'));
        var before = Path.Combine(fleet.Original(Node), ServingCertificate.TrimStart('/'));
        Assert.NotEqual(Openssl.Serial(before), Openssl.Serial(now));
        Assert.Equal(Openssl.PublicKey(before), Openssl.PublicKey(now));
        Assert.Equal(Openssl.Subject(before), Openssl.Subject(now));
        var verify = Openssl.Verify(Path.Combine(fleet.NodeRoot(Node), "etc/kubernetes/pki/ca.crt"), now);
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }
}
