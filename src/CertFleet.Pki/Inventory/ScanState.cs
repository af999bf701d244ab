using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>The mutable state of one <see cref="NodeScanner"/> scan: what is queued, what was read, what failed.</summary>
internal sealed class ScanState(NodeRoot root)
{
    private const long MaxFileBytes = 1 << 20;

    /// <summary>Why a file is read, which decides what a problem with it means.</summary>
    public enum Reason
    {
        /// <summary>A unit, component config or kubeconfig names it: anything wrong with it is an error.</summary>
        Named,

        /// <summary>It is in a folder that is searched: what is not a certificate, key or kubeconfig is passed over.</summary>
        Listed,

        /// <summary>An administrator's kubeconfig place: only a kubeconfig is taken from there.</summary>
        AdministratorKubeconfig,
    }

    private readonly Queue<(string Path, Reason Reason)> _queue = new();
    private readonly HashSet<string> _readHostPaths = new(StringComparer.Ordinal);
    private readonly HashSet<string> _listedFolders = new(StringComparer.Ordinal);
    private readonly List<string> _namedFolders = [];

    public NodeRoot Root { get; } = root;

    public List<InventoryError> Errors { get; } = [];

    public List<FoundCertificate> Certificates { get; } = [];

    public List<FoundKey> Keys { get; } = [];

    /// <summary>Kubeconfig file references: which kubeconfig names which certificate, key or CA file.</summary>
    public List<KubeconfigFileReference> KubeconfigReferences { get; } = [];

    /// <summary>Host paths of folders a unit names (like --cert-dir), with the unit.</summary>
    public List<(string HostPath, string Unit)> UnitFolders { get; } = [];

    public void Enqueue(string nodePath, Reason reason)
    {
        if (!AtomicFile.IsTemporary(Path.GetFileName(nodePath)) && !ScanPlaces.IsTrustStore(nodePath))
        {
            _queue.Enqueue((nodePath, reason));
        }
    }

    public void EnqueueFolder(string folderOnNode, bool recursive)
    {
        IReadOnlyList<string> files;
        try
        {
            files = Root.EnumerateFiles(folderOnNode, recursive).ToList();
        }
        catch (PkiException e)
        {
            Errors.Add(new InventoryError(folderOnNode, e.Message));
            return;
        }
        if (!recursive && files.Count > ScanPlaces.MaxFilesPerFolder)
        {
            Errors.Add(new InventoryError(folderOnNode, $"more than {ScanPlaces.MaxFilesPerFolder} files; only the files units " +
                "and kubeconfigs name were read from it: keep certificates in a folder of their own"));
            return;
        }
        foreach (var file in files)
        {
            Enqueue(file, Reason.Listed);
        }
    }

    /// <summary>Something names a file in this folder: the folder is searched too (for the key beside a CA, say).</summary>
    public void NoteNamedFolder(string nodePath)
    {
        if (Path.GetDirectoryName(nodePath) is { } folder && ScanPlaces.IsListable(folder))
        {
            _namedFolders.Add(folder);
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
            if (reference.IsFolderSetting)
            {
                UnitFolders.Add((hostPath, reference.Unit));
            }
            if (!ScanPlaces.IsTrustStore(reference.Path))
            {
                EnqueueFolder(reference.Path, recursive: false);
            }
        }
        else if (File.Exists(hostPath))
        {
            Enqueue(reference.Path, Reason.Named);
            NoteNamedFolder(reference.Path);
        }
    }

    /// <summary>Reads everything queued, then the folders of what was named, until nothing new turns up.</summary>
    public void ReadAll()
    {
        while (true)
        {
            ReadQueuedFiles();
            var folders = _namedFolders.Where(_listedFolders.Add).ToList();
            _namedFolders.Clear();
            if (folders.Count == 0)
            {
                return;
            }
            foreach (var folder in folders)
            {
                EnqueueFolder(folder, recursive: false);
            }
        }
    }

    private void ReadQueuedFiles()
    {
        while (_queue.TryDequeue(out var item))
        {
            var (nodePath, reason) = item;
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
                if (reason != Reason.Named && Root.SizeOf(canonicalPath) is > MaxFileBytes)
                {
                    _readHostPaths.Remove(hostPath); // named later, it is read (and its size reported) then
                    continue;
                }
                var bytes = Root.ReadAllBytes(canonicalPath, MaxFileBytes);
                if (bytes is null || Array.IndexOf(bytes, (byte)0) >= 0)
                {
                    continue; // gone meanwhile, or binary: not PEM, not a kubeconfig
                }
                var file = new ScannedFile(canonicalPath, hostPath, System.Text.Encoding.UTF8.GetString(bytes));
                if (reason == Reason.AdministratorKubeconfig)
                {
                    if (Kubeconfig.LooksLikeKubeconfig(file.Text))
                    {
                        ReadKubeconfig(file);
                    }
                    else
                    {
                        _readHostPaths.Remove(hostPath); // not a kubeconfig; it may still be named elsewhere
                    }
                }
                else if (file.Text.Contains("-----BEGIN ", StringComparison.Ordinal))
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
                KubeconfigReferences.Add(new KubeconfigFileReference(file, user.Name, certificatePath, keyPath, IsCluster: false));
            }
        }
        foreach (var cluster in kubeconfig.Clusters)
        {
            ReadEmbedded(file, kubeconfig, cluster.CertificateAuthorityData, cluster.Name, isClientCertificate: false);
            if (ReferencedPath(file, cluster.CertificateAuthority) is { } caPath)
            {
                KubeconfigReferences.Add(new KubeconfigFileReference(file, cluster.Name, caPath, null, IsCluster: true));
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

    /// <summary>The file a kubeconfig's reference names (relative to the kubeconfig, as kubectl reads it); queued for reading.</summary>
    private ReferencedFile? ReferencedPath(ScannedFile kubeconfig, KubeconfigValue? value)
    {
        if (value is null || value.Text.Length == 0)
        {
            return null;
        }
        string nodePath;
        try
        {
            nodePath = NodePath.Normalize(value.Text.StartsWith('/')
                ? value.Text
                : NodePath.Combine(Path.GetDirectoryName(kubeconfig.Path)!, value.Text));
        }
        catch (PkiException e)
        {
            Errors.Add(new InventoryError(kubeconfig.Path, e.Message));
            return null;
        }
        Enqueue(nodePath, Reason.Named);
        NoteNamedFolder(nodePath);
        try
        {
            return new ReferencedFile(value.Key, nodePath, Root.Resolve(nodePath));
        }
        catch (PkiException e)
        {
            Errors.Add(new InventoryError(nodePath, e.Message));
            return null;
        }
    }
}

/// <summary>A certificate as read, before it is linked to its key, issuer and units.</summary>
internal sealed record FoundCertificate(ScannedFile File, CertificateInfo Certificate, PemLocation Location);

/// <summary>A private key as read: its file (node path) and, for client-key-data, the kubeconfig user.</summary>
internal sealed record FoundKey(string Path, string HostPath, string? KubeconfigUser, PrivateKey Key);

/// <summary>A file a kubeconfig field (client-certificate, client-key, certificate-authority) names.</summary>
internal sealed record ReferencedFile(string Field, string NodePath, string HostPath);

/// <summary>A kubeconfig user (or cluster) naming a certificate file and maybe its key file by path.</summary>
internal sealed record KubeconfigFileReference(ScannedFile Kubeconfig, string Entry, ReferencedFile? Certificate, ReferencedFile? Key, bool IsCluster)
{
    public string KubeconfigHostPath => Kubeconfig.HostPath;

    public string? CertificateHostPath => Certificate?.HostPath;

    public string? KeyHostPath => Key?.HostPath;

    /// <summary>The reference as the inventory publishes it, one per named file.</summary>
    public IEnumerable<KubeconfigReference> Public =>
        new[] { Certificate, Key }.OfType<ReferencedFile>()
            .Select(f => new KubeconfigReference(Kubeconfig.Path, Entry, IsCluster, f.Field, f.NodePath));
}
