using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Output;

/// <summary>`check-expiration` as a table: leaf certificates, then CA certificates, then what could not be read.</summary>
internal static class ExpiryTable
{
    public static void Write(TextWriter writer, NodeInventory inventory, DateTimeOffset now)
    {
        var leaves = new TextTable("CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "USED BY", "STATUS");
        foreach (var entry in inventory.Certificates.Where(e => !IsAuthorityRow(e)))
        {
            leaves.Add(entry.DisplayName, ResidualTime.Date(entry.Certificate.NotAfter),
                ResidualTime.Format(entry.Certificate.NotAfter - now), AuthorityName(entry, inventory), UsedBy(entry.UsedBy),
                ExpiryStatus.Of(entry, now));
        }
        leaves.WriteTo(writer);

        writer.WriteLine();
        var authorities = new TextTable("CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "USED BY", "STATUS");
        // A CA embedded in several kubeconfigs is one CA: show its file once, with every unit that trusts it.
        foreach (var copies in inventory.Certificates.Where(IsAuthorityRow).GroupBy(e => e.Certificate.Sha256Fingerprint))
        {
            // the copy the node's services use, in its own file, names it best (not an unused copy in /etc/etcd)
            var shown = copies.OrderBy(c => c.Location.Field is null ? 0 : 1).ThenBy(c => c.IsInBundle ? 1 : 0)
                .ThenBy(c => c.UsedBy.Count > 0 ? 0 : 1).First();
            var others = copies.Count() - 1;
            var name = others == 0 ? shown.DisplayName : $"{shown.DisplayName} (+{others} {(others == 1 ? "copy" : "copies")})";
            authorities.Add(name, ResidualTime.Date(shown.Certificate.NotAfter), ResidualTime.Format(shown.Certificate.NotAfter - now),
                UsedBy(RestartOrder.Sort(copies.SelectMany(c => c.UsedBy))), ExpiryStatus.Of(shown, now));
        }
        authorities.WriteTo(writer);

        if (inventory.Errors.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("COULD NOT READ");
            foreach (var error in inventory.Errors)
            {
                writer.WriteLine($"{Shown(error.Path)}: {Shown(error.Message)}");
            }
        }
    }

    /// <summary>
    /// A row of the CA table: the CAs CertFleet renews, and client-go's throwaway CA in kubelet.crt, which is a CA
    /// too (shown as a second kubelet.crt row among the leaves it reads as a duplicate).
    /// </summary>
    private static bool IsAuthorityRow(CertificateEntry entry) =>
        entry.IsAuthority || (entry.Certificate.IsCa && entry.Owner == RenewalOwner.KubeletSelfSigned);

    /// <summary>
    /// The CA's file name without extension ("ca", "front-proxy-ca"), as kubeadm names them; with the CA's key id when
    /// that file holds more than one CA (a re-key's bundle of old and new), so each leaf shows which one it chains to.
    /// </summary>
    private static string AuthorityName(CertificateEntry entry, NodeInventory inventory)
    {
        if (entry.IssuerPath is { } bundle && entry.IssuerCertificate is { } issuer
            && inventory.Certificates.Count(e => e.Path == bundle && e.KubeconfigUser is null && e.Certificate.IsCa) > 1)
        {
            return $"{Path.GetFileNameWithoutExtension(bundle)} (key {issuer.ShortKeyId})";
        }
        if (entry.Owner == RenewalOwner.KubeletSelfSigned)
        {
            return "(the kubelet's own)"; // self-signed, or client-go's throwaway CA in the same file
        }
        if (entry.IssuerPath is { } path)
        {
            return Path.GetFileNameWithoutExtension(path);
        }
        return entry.Owner switch
        {
            RenewalOwner.SelfSigned => "(self-signed)",
            _ => $"{entry.Certificate.Issuer} (not on this node)",
        };
    }

    private static string UsedBy(IEnumerable<string> units)
    {
        var names = units.Select(u => u.EndsWith(".service", StringComparison.Ordinal) ? u[..^".service".Length] : u).ToList();
        return names.Count == 0 ? "-" : string.Join(",", names);
    }
}
