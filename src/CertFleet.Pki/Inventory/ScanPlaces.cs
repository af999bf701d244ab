using CertFleet.Pki.Files;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Where a scan looks besides the files the node's units name: the folders binary deployments keep certificates in,
/// the administrators' kubeconfigs, and the folder of every file a unit, environment file, component config or
/// kubeconfig names (a CA key kept beside its CA is found there). Bounded: no walk of "/", no system trust store.
/// </summary>
internal static class ScanPlaces
{
    /// <summary>Searched with their sub-folders on every node.</summary>
    public static readonly string[] UsualFolders =
        [
            "/etc/kubernetes", "/etc/etcd", "/etc/ssl/etcd", "/var/lib/kubelet/pki", "/var/lib/kubernetes",
            "/opt/kubernetes/ssl", "/opt/kubernetes/cfg", "/opt/etcd/ssl", "/opt/etcd/cfg",
        ];

    /// <summary>More files than this in one named folder is not a certificate folder; only its named files are read.</summary>
    public const int MaxFilesPerFolder = 1000;

    // the distribution's public CAs: hundreds of certificates no cluster issued, none of them CertFleet's to renew
    private static readonly string[] TrustStores =
        ["/etc/ssl/certs", "/etc/pki/tls/certs", "/etc/pki/ca-trust", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/etc/ca-certificates"];

    /// <summary>Whether the folder of a named file is worth listing: two levels deep at least (not /etc, /root or /).</summary>
    public static bool IsListable(string folderOnNode) =>
        NodePath.Components(folderOnNode).Count() >= 2 && !IsTrustStore(folderOnNode);

    public static bool IsTrustStore(string pathOnNode) =>
        TrustStores.Any(store => pathOnNode == store || pathOnNode.StartsWith(store + "/", StringComparison.Ordinal));

    /// <summary>
    /// The administrators' kubeconfigs: ~/.kube/config of root and of every /home/NAME, and the kubeconfigs kept
    /// directly in those home folders (kubernetes-the-hard-way copies admin.kubeconfig there). Only kubeconfigs are
    /// taken from these places.
    /// </summary>
    public static IEnumerable<string> AdministratorKubeconfigs(NodeRoot root)
    {
        foreach (var home in root.EnumerateDirectories("/home").Prepend("/root"))
        {
            yield return home + "/.kube/config";
            foreach (var file in root.EnumerateFiles(home, recursive: false))
            {
                yield return file;
            }
        }
    }
}
