using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Pki.Renewal;

/// <summary>The new content of one file: every replaced certificate in it swapped in place, nothing else changed.</summary>
public sealed record FileEdit(ScannedFile File, byte[] NewContent, IReadOnlyList<CertificateEntry> Replaced)
{
    /// <summary>
    /// The kubelet's -current.pem link that leads to this file, when the file is one the kubelet rotates: the new
    /// content then goes to a new dated file and the link is moved, as the kubelet does; else null (edited in place).
    /// </summary>
    public string? RotationLink => Replaced.Select(r => r.RotationLink).FirstOrDefault(link => link is not null);
}

/// <summary>
/// Computes the new text of every file that holds a certificate being replaced: PEM blocks swapped in place (a
/// bundle keeps its other certificates and comments), kubeconfig *-data values rewritten through the kubeconfig
/// rewriter (comments, order and other fields kept), and the certificates to remove taken out of those same files.
/// Keys are never rewritten.
/// </summary>
internal static class FileEdits
{
    /// <param name="replacements">old certificate's SHA-256 fingerprint to the certificate that replaces it</param>
    /// <param name="removals">fingerprints of certificates to delete from every file that gets a replacement</param>
    public static IReadOnlyList<FileEdit> Compute(NodeInventory inventory, IReadOnlyDictionary<string, CertificateInfo> replacements,
        IReadOnlySet<string> removals)
    {
        // fingerprints are hex: a caller's lower case still names the same certificate
        removals = removals.Select(r => r.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
        if (removals.FirstOrDefault(r => replacements.Keys.Contains(r, StringComparer.OrdinalIgnoreCase)) is { } both)
        {
            throw new PkiException($"certificate {both} is to be both replaced and removed; nothing was written, ask for one or the other");
        }
        var byFile = inventory.Certificates
            .Where(e => replacements.ContainsKey(e.Certificate.Sha256Fingerprint))
            .GroupBy(e => e.File.HostPath, StringComparer.Ordinal);

        var edits = new List<FileEdit>();
        foreach (var file in byFile)
        {
            var scanned = file.First().File;
            var changes = file
                .Select(e => new BlockChange(e, Pem.Write("CERTIFICATE", replacements[e.Certificate.Sha256Fingerprint].Der).TrimEnd('\n')))
                .Concat(inventory.Certificates
                    .Where(e => e.File.HostPath == file.Key && removals.Contains(e.Certificate.Sha256Fingerprint))
                    .Select(e => new BlockChange(e, NewPem: null)))
                .ToList();
            var text = Apply(scanned.Text, changes.Where(c => c.Occurrence.Location.Field is null).ToList(), scanned.Path);

            var byField = changes.Where(c => c.Occurrence.Location.Field is not null)
                .GroupBy(c => c.Occurrence.Location.Field!.Value.Start)
                .ToList();
            if (byField.Count > 0)
            {
                var kubeconfig = byField[0].First().Occurrence.Location.Field!.Kubeconfig;
                var values = byField.Select(g =>
                {
                    var field = g.First().Occurrence.Location.Field!;
                    var decoded = Apply(field.DecodedText, g.ToList(), $"{scanned.Path} ({field.EntryName})");
                    return new KeyValuePair<KubeconfigValue, string>(field.Value, Kubeconfig.EncodeData(Encoding.UTF8.GetBytes(decoded)));
                }).ToList();
                text = kubeconfig.Rewrite(values);
            }
            edits.Add(new FileEdit(scanned, Encoding.UTF8.GetBytes(text), file.ToList()));
        }
        return edits;
    }

    /// <summary>A PEM block to replace with <paramref name="NewPem"/>, or to delete when it is null.</summary>
    private sealed record BlockChange(CertificateEntry Occurrence, string? NewPem);

    private static string Apply(string text, List<BlockChange> changes, string name)
    {
        var builder = new StringBuilder(text);
        // from the end, so earlier offsets stay valid
        foreach (var change in changes.DistinctBy(c => c.Occurrence.Location.Block.Start).OrderByDescending(c => c.Occurrence.Location.Block.Start))
        {
            var block = change.Occurrence.Location.Block;
            if (change.NewPem is { } newPem)
            {
                builder.Remove(block.Start, block.End - block.Start).Insert(block.Start, newPem);
            }
            else
            {
                builder.Remove(block.Start, LineEnd(text, block.End) - block.Start);
            }
        }
        var result = builder.ToString();
        if (changes.Any(c => c.NewPem is null) && !Pem.Read(result, name).Any(b => b.Label == "CERTIFICATE"))
        {
            var removed = string.Join(", ", changes.Where(c => c.NewPem is null).Select(c => c.Occurrence.Certificate.Subject).Distinct());
            throw new PkiException($"{name}: removing {removed} would leave it without a certificate; a file always keeps one, so nothing was written");
        }
        return result;
    }

    /// <summary>The offset after the line break that ends a block (none at the end of the text).</summary>
    private static int LineEnd(string text, int end) =>
        text.AsSpan(end).StartsWith("\r\n") ? end + 2 : text.AsSpan(end).StartsWith("\n") ? end + 1 : end;
}
