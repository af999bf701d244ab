using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Text;
using CertFleet.Protocol.V1;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// InstallRequest.self_signed: the serving certificate the kubelet made for itself, which no CA issued and the kubelet
/// never renews, renewed here self-signed with its own key. Only that certificate: the coordinator cannot have the
/// agent self-sign any other identity. client-go's throwaway CA in the same file (its key is gone) leaves the file.
/// </summary>
internal static class SelfSignedRenewals
{
    private const int DefaultDays = 365;
    private const int MaxDays = 3650;

    /// <summary>Adds the renewals to <paramref name="replacements"/> and what leaves the files to <paramref name="removals"/>; an error in words, else null.</summary>
    public static string? AddTo(NodeInventory inventory, InstallRequest request, TimeProvider time,
        Dictionary<string, CertificateInfo> replacements, HashSet<string> removals)
    {
        var validity = TimeSpan.FromDays(request.SelfSignedDays is > 0 and <= MaxDays ? request.SelfSignedDays : DefaultDays);
        var issuer = new CertificateIssuer(time);
        foreach (var fingerprint in request.SelfSigned.Select(f => f.ToUpperInvariant()).Distinct(StringComparer.Ordinal))
        {
            var entry = inventory.Certificates.FirstOrDefault(e => e.Certificate.Sha256Fingerprint == fingerprint && e.Key is not null);
            if (entry is null)
            {
                return $"the certificate {Sha256Text.FormatFingerprint(fingerprint)} to renew self-signed is not on this node with its key (it may have been replaced since the last report); ask for a fresh inventory";
            }
            if (entry.Owner != RenewalOwner.KubeletSelfSigned)
            {
                return $"{entry.DisplayName} is not the serving certificate the kubelet made for itself; only that one is renewed self-signed on the node";
            }
            replacements[fingerprint] = issuer.RenewSelfSigned(entry.Certificate, entry.Key!, validity);
            removals.UnionWith(inventory.Certificates
                .Where(e => e.File.HostPath == entry.File.HostPath && e.Location.Field is null && e.Owner == RenewalOwner.KubeletSelfSigned && e.Key is null)
                .Select(e => e.Certificate.Sha256Fingerprint));
        }
        return null;
    }
}
