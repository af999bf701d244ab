using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CertFleet.Cli.Demo;

/// <summary>The files of a sandbox node: PEM files, kubeconfigs, systemd units and etcd.env, under the node's root folder.</summary>
internal sealed class SandboxFiles
{
    private const string Pki = "/etc/kubernetes/pki";

    public void Certificate(string root, string name, X509Certificate2 certificate, ECDsa? key)
    {
        Write(root, $"{Pki}/{name}.crt", certificate.ExportCertificatePem() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        if (key is not null)
        {
            Write(root, $"{Pki}/{name}.key", key.ExportECPrivateKeyPem() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void EmbeddedKubeconfig(string root, string path, string user, (X509Certificate2 Cert, ECDsa Key) credential,
        X509Certificate2 ca, string server)
    {
        static string B64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem + "\n"));
        Write(root, path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: {B64(ca.ExportCertificatePem())}
                server: {server}
              name: kubernetes
            contexts:
            - context:
                cluster: kubernetes
                user: {user}
              name: {user}@kubernetes
            current-context: {user}@kubernetes
            preferences: {"{}"}
            users:
            - name: {user}
              user:
                client-certificate-data: {B64(credential.Cert.ExportCertificatePem())}
                client-key-data: {B64(credential.Key.ExportECPrivateKeyPem())}

            """, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void FileKubeconfig(string root, string path, string user, string certificate, string key, string server) =>
        Write(root, path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority: {Pki}/ca.crt
                server: {server}
              name: kubernetes
            contexts:
            - context:
                cluster: kubernetes
                user: {user}
              name: default
            current-context: default
            users:
            - name: {user}
              user:
                client-certificate: {certificate}
                client-key: {key}

            """, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    public void MasterUnits(string root, SandboxLayout layout, int index)
    {
        var address = layout.MasterAddress(index);
        var members = Enumerable.Range(1, layout.Masters).ToList();
        var endpoints = string.Join(",", members.Select(i => $"https://{layout.MasterAddress(i)}:2379"));
        var initial = string.Join(",", members.Select(i => $"master-{i}=https://{layout.MasterAddress(i)}:2380"));
        Write(root, "/etc/etcd/etcd.env", $"""
            ETCD_NAME=master-{index}
            ETCD_DATA_DIR=/var/lib/etcd
            ETCD_LISTEN_CLIENT_URLS=https://{address}:2379
            ETCD_ADVERTISE_CLIENT_URLS=https://{address}:2379
            ETCD_LISTEN_PEER_URLS=https://{address}:2380
            ETCD_INITIAL_ADVERTISE_PEER_URLS=https://{address}:2380
            ETCD_INITIAL_CLUSTER={initial}
            ETCD_INITIAL_CLUSTER_STATE=new
            ETCD_CERT_FILE={Pki}/etcd-server.crt
            ETCD_KEY_FILE={Pki}/etcd-server.key
            ETCD_TRUSTED_CA_FILE={Pki}/ca.crt
            ETCD_CLIENT_CERT_AUTH=true
            ETCD_PEER_CERT_FILE={Pki}/etcd-peer.crt
            ETCD_PEER_KEY_FILE={Pki}/etcd-peer.key
            ETCD_PEER_TRUSTED_CA_FILE={Pki}/ca.crt
            ETCD_PEER_CLIENT_CERT_AUTH=true

            """, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Unit(root, "etcd", "etcd key-value store", "/usr/local/bin/etcd", "Type=notify", "EnvironmentFile=/etc/etcd/etcd.env");
        Unit(root, "kube-apiserver", "Kubernetes API Server", $"""
            /usr/local/bin/kube-apiserver \
              --advertise-address={address} \
              --secure-port=6443 \
              --etcd-servers={endpoints} \
              --etcd-cafile={Pki}/ca.crt \
              --etcd-certfile={Pki}/apiserver-etcd-client.crt \
              --etcd-keyfile={Pki}/apiserver-etcd-client.key \
              --tls-cert-file={Pki}/apiserver.crt \
              --tls-private-key-file={Pki}/apiserver.key \
              --client-ca-file={Pki}/ca.crt \
              --kubelet-client-certificate={Pki}/apiserver-kubelet-client.crt \
              --kubelet-client-key={Pki}/apiserver-kubelet-client.key \
              --proxy-client-cert-file={Pki}/front-proxy-client.crt \
              --proxy-client-key-file={Pki}/front-proxy-client.key \
              --requestheader-client-ca-file={Pki}/front-proxy-ca.crt
            """);
        Unit(root, "kube-controller-manager", "Kubernetes Controller Manager", $"""
            /usr/local/bin/kube-controller-manager \
              --kubeconfig=/etc/kubernetes/controller-manager.kubeconfig \
              --cluster-signing-cert-file={Pki}/ca.crt \
              --cluster-signing-key-file={Pki}/ca.key \
              --root-ca-file={Pki}/ca.crt
            """);
        Unit(root, "kube-scheduler", "Kubernetes Scheduler", """
            /usr/local/bin/kube-scheduler \
              --kubeconfig=/etc/kubernetes/scheduler.kubeconfig
            """);
    }

    public void NodeUnits(string root, string node, string address)
    {
        Unit(root, "kubelet", "Kubernetes Kubelet", $"""
            /usr/local/bin/kubelet \
              --kubeconfig=/etc/kubernetes/kubelet.kubeconfig \
              --client-ca-file={Pki}/ca.crt \
              --hostname-override={node} \
              --node-ip={address}
            """);
        Unit(root, "kube-proxy", "Kubernetes Kube Proxy", $"""
            /usr/local/bin/kube-proxy \
              --kubeconfig=/etc/kubernetes/kube-proxy.kubeconfig \
              --hostname-override={node}
            """);
    }

    private void Unit(string root, string name, string description, string execStart, params string[] service) =>
        Write(root, $"/etc/systemd/system/{name}.service", $"""
            [Unit]
            Description={description}
            After=network-online.target

            [Service]
            {string.Join("\n", service)}
            ExecStart={execStart}
            Restart=on-failure

            [Install]
            WantedBy=multi-user.target

            """, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

    private static void Write(string root, string nodePath, string text, UnixFileMode mode)
    {
        var path = Path.Combine(root, nodePath.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
    }
}
