using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Files;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Finds every certificate on a node by content, not by file name: in the usual folders, in every file a
/// systemd unit names, and in every file or *-data field a kubeconfig names. Then pairs each certificate with
/// its key, finds its issuer among the CAs present and the units that use it.
/// </summary>
public sealed class NodeScanner(TimeProvider time)
{
    private static readonly string[] CertificateFolders =
        ["/etc/kubernetes", "/etc/etcd", "/etc/ssl/etcd", "/var/lib/kubelet/pki"];

    private const long MaxFileBytes = 1 << 20;

    public NodeInventory Scan(NodeRoot root)
    {
        var scan = new ScanState(root);
        var units = UnitCatalog.Load(root, scan.Errors);
        foreach (var folder in CertificateFolders)
        {
            foreach (var path in root.EnumerateFiles(folder, recursive: true))
            {
                scan.Enqueue(path);
            }
        }
        foreach (var reference in units.SelectMany(u => u.FileReferences))
        {
            scan.EnqueueReference(reference);
        }
        scan.ReadQueuedFiles();

        var entries = CertificateLinker.Link(scan, units);
        return new NodeInventory(root, time.GetUtcNow(), entries, scan.Errors, units, scan.Keys.Select(k => k.Key).ToList());
    }

    /// <summary>The mutable state of one scan.</summary>
    internal sealed class ScanState(NodeRoot root)
    {
        private readonly Queue<string> _queue = new();
        private readonly HashSet<string> _readHostPaths = new(StringComparer.Ordinal);

        public NodeRoot Root { get; } = root;

        public List<InventoryError> Errors { get; } = [];

        public List<FoundCertificate> Certificates { get; } = [];

        public List<FoundKey> Keys { get; } = [];

        /// <summary>Kubeconfig file references: the host path of a certificate file to the kubeconfig naming it, and its key.</summary>
        public List<KubeconfigFileReference> KubeconfigReferences { get; } = [];

        /// <summary>Host paths of folders a unit names (like --cert-dir), with the unit.</summary>
        public List<(string HostPath, string Unit)> UnitFolders { get; } = [];

        public void Enqueue(string nodePath)
        {
            if (!AtomicFile.IsTemporary(System.IO.Path.GetFileName(nodePath)))
            {
                _queue.Enqueue(nodePath);
            }
        }

        public void EnqueueReference(UnitFileReference reference)
        {
            string hostPath;
            try
            {
                hostPath = Root.Resolve(reference.Path);
            }
            catch (PkiException e)
            {
                Errors.Add(new InventoryError(reference.Path, e.Message));
                return;
            }
            if (Directory.Exists(hostPath))
            {
                // A folder setting such as --cert-dir means the unit uses what is in it; a variable that only
                // holds a folder for ${VAR} expansion (SSL=/etc/kubernetes/ssl) says nothing of the sort.
                if (reference.Setting.Contains("dir", StringComparison.OrdinalIgnoreCase))
                {
                    UnitFolders.Add((hostPath, reference.Unit));
                }
                foreach (var file in Root.EnumerateFiles(reference.Path, recursive: false))
                {
                    Enqueue(file);
                }
            }
            else if (File.Exists(hostPath))
            {
                Enqueue(reference.Path);
            }
        }

        public void ReadQueuedFiles()
        {
            while (_queue.TryDequeue(out var nodePath))
            {
                string hostPath;
                try
                {
                    hostPath = Root.Resolve(nodePath);
                }
                catch (PkiException e)
                {
                    Errors.Add(new InventoryError(nodePath, e.Message));
                    continue;
                }
                if (!_readHostPaths.Add(hostPath))
                {
                    continue;
                }
                var canonicalPath = Root.ToNodePath(hostPath);
                try
                {
                    var bytes = Root.ReadAllBytes(canonicalPath, MaxFileBytes);
                    if (bytes is null || Array.IndexOf(bytes, (byte)0) >= 0)
                    {
                        continue; // gone meanwhile, or binary: not PEM, not a kubeconfig
                    }
                    var file = new ScannedFile(canonicalPath, hostPath, System.Text.Encoding.UTF8.GetString(bytes));
                    if (file.Text.Contains("-----BEGIN ", StringComparison.Ordinal))
                    {
                        ReadPem(file, file.Text, field: null);
                    }
                    else if (Kubeconfig.LooksLikeKubeconfig(file.Text))
                    {
                        ReadKubeconfig(file);
                    }
                }
                catch (PkiException e)
                {
                    Errors.Add(new InventoryError(canonicalPath, e.Message));
                }
            }
        }

        private void ReadPem(ScannedFile file, string text, KubeconfigField? field)
        {
            var sourceName = field is null ? file.Path : $"{file.Path} ({field.Value.Key} of {field.EntryName})";
            foreach (var block in Pem.Read(text, sourceName))
            {
                if (block.Label == "CERTIFICATE")
                {
                    var certificate = CertificateInfo.Parse(block.Der, sourceName);
                    Certificates.Add(new FoundCertificate(file, certificate, new PemLocation(block, field)));
                }
                else if (PrivateKey.IsPrivateKeyLabel(block.Label))
                {
                    try
                    {
                        Keys.Add(new FoundKey(file.Path, file.HostPath, field?.EntryName, PrivateKey.Parse(block, sourceName)));
                    }
                    catch (PkiException e)
                    {
                        // An unreadable key (encrypted, say) does not hide the certificates beside it.
                        Errors.Add(new InventoryError(file.Path, e.Message));
                    }
                }
            }
        }

        private void ReadKubeconfig(ScannedFile file)
        {
            var kubeconfig = Kubeconfig.Parse(file.Text, file.Path);
            foreach (var user in kubeconfig.Users)
            {
                ReadEmbedded(file, kubeconfig, user.ClientCertificateData, user.Name, isClientCertificate: true);
                ReadEmbedded(file, kubeconfig, user.ClientKeyData, user.Name, isClientCertificate: true);
                var certificatePath = ReferencedPath(file, user.ClientCertificate);
                var keyPath = ReferencedPath(file, user.ClientKey);
                if (certificatePath is not null || keyPath is not null)
                {
                    KubeconfigReferences.Add(new KubeconfigFileReference(file.HostPath, certificatePath, keyPath));
                }
            }
            foreach (var cluster in kubeconfig.Clusters)
            {
                ReadEmbedded(file, kubeconfig, cluster.CertificateAuthorityData, cluster.Name, isClientCertificate: false);
                if (ReferencedPath(file, cluster.CertificateAuthority) is { } caPath)
                {
                    KubeconfigReferences.Add(new KubeconfigFileReference(file.HostPath, caPath, null));
                }
            }
        }

        private void ReadEmbedded(ScannedFile file, Kubeconfig kubeconfig, KubeconfigValue? value, string entryName,
            bool isClientCertificate)
        {
            if (value is null || value.Text.Length == 0)
            {
                return;
            }
            var decoded = System.Text.Encoding.UTF8.GetString(Kubeconfig.DecodeData(value, file.Path));
            ReadPem(file, decoded, new KubeconfigField(file, kubeconfig, value, entryName, isClientCertificate, decoded));
        }

        /// <summary>The host path a kubeconfig's file reference names (relative to the kubeconfig, as kubectl reads it); queued for reading.</summary>
        private string? ReferencedPath(ScannedFile kubeconfig, KubeconfigValue? value)
        {
            if (value is null || value.Text.Length == 0)
            {
                return null;
            }
            var nodePath = value.Text.StartsWith('/')
                ? value.Text
                : System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(kubeconfig.Path)!, value.Text));
            Enqueue(nodePath);
            try
            {
                return Root.Resolve(nodePath);
            }
            catch (PkiException e)
            {
                Errors.Add(new InventoryError(nodePath, e.Message));
                return null;
            }
        }
    }
}

/// <summary>A certificate as read, before it is linked to its key, issuer and units.</summary>
internal sealed record FoundCertificate(ScannedFile File, CertificateInfo Certificate, PemLocation Location);

/// <summary>A private key as read: its file (node path) and, for client-key-data, the kubeconfig user.</summary>
internal sealed record FoundKey(string Path, string HostPath, string? KubeconfigUser, PrivateKey Key);

/// <summary>A kubeconfig naming a certificate file (and maybe its key file) by path; host paths.</summary>
internal sealed record KubeconfigFileReference(string KubeconfigHostPath, string? CertificateHostPath, string? KeyHostPath);
