using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;

namespace CertFleet.Cli.Demo;

/// <summary>What the check of one node found: a line for the table, and every problem in the operator's words.</summary>
internal sealed record NodeRekeyCheck(string Summary, IReadOnlyList<string> Problems);

/// <summary>
/// After a re-key, one sandbox node's files as CertFleet's scanner finds them: every leaf a cluster CA issued must
/// verify against that CA's new certificate and not against the old one (signature, name and key identifier:
/// <see cref="CertFleet.Pki.Certificates.CertificateInfo.IsIssuedBy"/>), with the key it had before; and no file or
/// kubeconfig may still hold an old CA, which would go on trusting whatever the old key signs.
/// </summary>
internal static class SandboxRekeyCheck
{
    /// <summary>Each leaf's public key by where it is, before the re-key.</summary>
    public static IReadOnlyDictionary<string, byte[]> LeafKeys(string root, TimeProvider time)
    {
        using var inventory = new NodeScanner(time).Scan(new NodeRoot(root));
        return Leaves(inventory).ToDictionary(e => e.DisplayName, e => e.Certificate.SubjectPublicKeyInfoDer);
    }

    public static NodeRekeyCheck Check(string root, IReadOnlyList<ReplacedAuthority> authorities, IReadOnlyDictionary<string, byte[]> keysBefore,
        TimeProvider time)
    {
        using var inventory = new NodeScanner(time).Scan(new NodeRoot(root));
        var problems = new List<string>();
        var leaves = Leaves(inventory).ToList();
        foreach (var leaf in leaves)
        {
            var certificate = leaf.Certificate;
            var authority = authorities.FirstOrDefault(a => certificate.IssuerDer.AsSpan().SequenceEqual(a.New.SubjectDer)
                || certificate.IssuerDer.AsSpan().SequenceEqual(a.Old.SubjectDer));
            if (authority is null)
            {
                continue; // issued by a CA the coordinator does not hold: no re-key concerns it
            }
            if (!certificate.IsIssuedBy(authority.New))
            {
                problems.Add($"{leaf.DisplayName} ({certificate.Subject}) does not verify against the new {authority.Name} CA (key {authority.New.ShortKeyId})");
            }
            if (certificate.IsIssuedBy(authority.Old))
            {
                problems.Add($"{leaf.DisplayName} ({certificate.Subject}) still verifies against the old {authority.Name} CA (key {authority.Old.ShortKeyId})");
            }
            if (keysBefore.TryGetValue(leaf.DisplayName, out var before) && !before.AsSpan().SequenceEqual(certificate.SubjectPublicKeyInfoDer))
            {
                problems.Add($"{leaf.DisplayName} has a different key than before the re-key; a re-key re-issues each leaf with its own key");
            }
        }
        foreach (var held in inventory.Certificates)
        {
            if (authorities.FirstOrDefault(a => held.Certificate.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(a.Old.SubjectPublicKeyInfoDer)) is { } old)
            {
                problems.Add($"{held.DisplayName} still holds the old {old.Name} CA (key {old.Old.ShortKeyId}): it would trust what the old key signs");
            }
        }
        var summary = problems.Count == 0
            ? $"{leaves.Count} leaves: each verifies against its new CA and not the old one, with the key it had; no file holds an old CA"
            : $"{problems.Count} problem(s) among {leaves.Count} leaves and the node's CA files:";
        return new NodeRekeyCheck(summary, problems);
    }

    /// <summary>Leaves a cluster CA issued: not CAs, not the kubelet's own self-signed serving pair.</summary>
    private static IEnumerable<CertificateEntry> Leaves(NodeInventory inventory) =>
        inventory.Certificates.Where(e => !e.IsCa && !e.IsSelfSigned && e.Owner == RenewalOwner.CertFleet);
}
