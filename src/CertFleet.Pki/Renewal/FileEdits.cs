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
/// rewriter (comments, order and other fields kept). Keys are never rewritten.
/// </summary>
internal static class FileEdits
{
    /// <param name="replacements">old certificate's SHA-256 fingerprint to the certificate that replaces it</param>
    public static IReadOnlyList<FileEdit> Compute(NodeInventory inventory, IReadOnlyDictionary<string, CertificateInfo> replacements)
    {
        var byFile = inventory.Certificates
            .Where(e => replacements.ContainsKey(e.Certificate.Sha256Fingerprint))
            .Select(e => (Occurrence: e, NewPem: Pem.Write("CERTIFICATE", replacements[e.Certificate.Sha256Fingerprint].Der).TrimEnd('\n')))
            .GroupBy(x => x.Occurrence.File.HostPath, StringComparer.Ordinal);

        var edits = new List<FileEdit>();
        foreach (var file in byFile)
        {
            var scanned = file.First().Occurrence.File;
            var inFile = file.Where(x => x.Occurrence.Location.Field is null)
                .Select(x => (x.Occurrence.Location.Block, x.NewPem));
            var text = ReplaceBlocks(scanned.Text, inFile);

            var byField = file.Where(x => x.Occurrence.Location.Field is not null)
                .GroupBy(x => x.Occurrence.Location.Field!.Value.Start)
                .ToList();
            if (byField.Count > 0)
            {
                var kubeconfig = byField[0].First().Occurrence.Location.Field!.Kubeconfig;
                var values = byField.Select(g =>
                {
                    var field = g.First().Occurrence.Location.Field!;
                    var decoded = ReplaceBlocks(field.DecodedText, g.Select(x => (x.Occurrence.Location.Block, x.NewPem)));
                    return new KeyValuePair<KubeconfigValue, string>(field.Value, Kubeconfig.EncodeData(Encoding.UTF8.GetBytes(decoded)));
                }).ToList();
                text = kubeconfig.Rewrite(values);
            }
            edits.Add(new FileEdit(scanned, Encoding.UTF8.GetBytes(text), file.Select(x => x.Occurrence).ToList()));
        }
        return edits;
    }

    private static string ReplaceBlocks(string text, IEnumerable<(PemBlock Block, string NewPem)> replacements)
    {
        var builder = new StringBuilder(text);
        // from the end, so earlier offsets stay valid
        foreach (var (block, newPem) in replacements.DistinctBy(r => r.Block.Start).OrderByDescending(r => r.Block.Start))
        {
            builder.Remove(block.Start, block.End - block.Start).Insert(block.Start, newPem);
        }
        return builder.ToString();
    }
}
