namespace CertFleet.Pki.Inventory;

/// <summary>
/// A file a kubeconfig names: <paramref name="Field"/> (client-certificate, client-key, certificate-authority) of
/// user or cluster <paramref name="Entry"/> in <paramref name="KubeconfigPath"/> points at <paramref name="Path"/>
/// (node paths). Kept so that a named file that is missing is a problem, not silence.
/// </summary>
public sealed record KubeconfigReference(string KubeconfigPath, string Entry, bool IsCluster, string Field, string Path)
{
    public string Where => $"{Field} of {(IsCluster ? "cluster" : "user")} {Entry} in {KubeconfigPath}";
}
