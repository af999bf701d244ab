using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// Two workers of the loopback fleet laid out as the public guides leave them. worker-1 as kubernetes-the-hard-way
/// does: kube-proxy reads its kubeconfig only through KubeProxyConfiguration's clientConnection.kubeconfig, and the
/// kubelet serves with a certificate named only in KubeletConfiguration's tlsCertFile (signed by the cluster CA, 10
/// days left). worker-2 as a bootstrapped kubelet without rotation leaves itself (dotbalo, the /opt layout): its
/// client certificate in a dated kubelet-client-*.pem behind the kubelet-client-current.pem link its kubeconfig
/// names, and the kubelet.crt it made (client-go's leaf, then throwaway CA).
/// </summary>
internal static class ComponentConfigs
{
    public const string Node = "worker-1";
    public const string ServingCertificate = "/var/lib/kubelet/kubelet-serving.crt";
    public const string BootstrappedNode = "worker-2";
    private const string KubeletPki = "/var/lib/kubelet/pki";
    private const string ClientLink = KubeletPki + "/kubelet-client-current.pem";
    private const string OldClientFile = KubeletPki + "/kubelet-client-2026-01-01-00-00-00.pem";

    public static void LayOut(LoopbackFleet fleet)
    {
        LayOutHardWayWorker(fleet);
        LayOutBootstrappedWorker(fleet);
    }

    private static void LayOutBootstrappedWorker(LoopbackFleet fleet)
    {
        var root = fleet.NodeRoot(BootstrappedNode);
        var pki = Path.Combine(root, "var/lib/kubelet/pki");
        Directory.CreateDirectory(pki);
        var etc = Path.Combine(root, "etc/kubernetes/pki");
        File.WriteAllText(Path.Combine(root, OldClientFile.TrimStart('/')),
            File.ReadAllText(Path.Combine(etc, $"{BootstrappedNode}.crt")) + File.ReadAllText(Path.Combine(etc, $"{BootstrappedNode}.key")));
        File.SetUnixFileMode(Path.Combine(root, OldClientFile.TrimStart('/')), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Delete(Path.Combine(etc, $"{BootstrappedNode}.crt"));
        File.Delete(Path.Combine(etc, $"{BootstrappedNode}.key"));
        File.CreateSymbolicLink(Path.Combine(root, ClientLink.TrimStart('/')), OldClientFile);
        var kubeconfig = Path.Combine(root, "etc/kubernetes/kubelet.kubeconfig");
        File.WriteAllText(kubeconfig, File.ReadAllText(kubeconfig)
            .Replace($"/etc/kubernetes/pki/{BootstrappedNode}.crt", ClientLink, StringComparison.Ordinal)
            .Replace($"/etc/kubernetes/pki/{BootstrappedNode}.key", ClientLink, StringComparison.Ordinal));
        var lib = Path.Combine(SharedFixtures.RepositoryRoot, "tests/fixtures/guides/lib.sh");
        ProcessRunner.RunChecked("bash", "-c", $"source '{lib}'; WORK=$(mktemp -d); kubelet_self_signed '{root}' {KubeletPki} {BootstrappedNode} 127.0.11.12; rm -rf \"$WORK\"");
    }

    /// <summary>The kubelet's own files on worker-2: a new dated client file, and a kubelet.crt no CA signs.</summary>
    public static bool IsBootstrappedKubeletFile(string node, string path) =>
        node == BootstrappedNode && path.StartsWith(KubeletPki + "/", StringComparison.Ordinal);

    /// <summary>worker-2's kubelet files after the rollout: the link moved to a renewed dated file, kubelet.crt self-signed.</summary>
    public static void AssertBootstrappedKubeletRenewed(LoopbackFleet fleet)
    {
        var root = fleet.NodeRoot(BootstrappedNode);
        var target = new FileInfo(Path.Combine(root, ClientLink.TrimStart('/'))).LinkTarget!;
        Assert.NotEqual(OldClientFile, target);
        Assert.StartsWith(KubeletPki + "/kubelet-client-", target, StringComparison.Ordinal);
        var renewed = Path.Combine(root, target.TrimStart('/'));
        var old = Path.Combine(root, OldClientFile.TrimStart('/'));
        Assert.Equal(File.ReadAllText(Path.Combine(fleet.Original(BootstrappedNode), OldClientFile.TrimStart('/'))), File.ReadAllText(old));
        Assert.NotEqual(Openssl.Serial(old), Openssl.Serial(renewed));
        Assert.Equal(Openssl.PublicKey(old), Openssl.Checked("pkey", "-in", renewed, "-pubout"));
        Assert.Equal(Openssl.PublicKey(old), Openssl.PublicKey(renewed));
        var serving = Path.Combine(root, "var/lib/kubelet/pki/kubelet.crt");
        Assert.Single(File.ReadAllText(serving).Split("-----BEGIN CERTIFICATE-----", StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(Openssl.Subject(Path.Combine(fleet.Original(BootstrappedNode), "var/lib/kubelet/pki/kubelet.crt")), Openssl.Subject(serving));
        var selfSigned = Openssl.Verify(serving, serving);
        Assert.True(selfSigned.ExitCode == 0, selfSigned.Combined);
    }

    private static void LayOutHardWayWorker(LoopbackFleet fleet)
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
