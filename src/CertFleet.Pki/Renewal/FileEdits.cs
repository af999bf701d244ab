using System.Text;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Pki.Renewal;

/// <summary>The new content of one file: every renewed certificate in it replaced in place, nothing else changed.</summary>
public sealed record FileEdit(ScannedFile File, byte[] NewContent);

/// <summary>
/// Computes the new text of every file that holds a renewed certificate: PEM blocks replaced in place (a bundle
/// keeps its other certificates and comments), kubeconfig *-data values replaced through the kubeconfig
/// rewriter (comments, order and other fields kept). Keys are never rewritten.
/// </summary>
internal static class FileEdits
{
    public static IReadOnlyList<FileEdit> Compute(IReadOnlyList<RenewedCertificate> renewed)
    {
        var replacements = renewed
            .SelectMany(r => r.Plan.Occurrences.Select(o => (Occurrence: o, NewPem: Pem.Write("CERTIFICATE", r.Certificate.Der).TrimEnd('\n'))))
            .GroupBy(x => x.Occurrence.File.HostPath, StringComparer.Ordinal);

        var edits = new List<FileEdit>();
        foreach (var file in replacements)
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
                    return new KeyValuePair<KubeconfigValue, string>(field.Value, Kubeconfig.EncodeData(System.Text.Encoding.UTF8.GetBytes(decoded)));
                }).ToList();
                text = kubeconfig.Rewrite(values);
            }
            edits.Add(new FileEdit(scanned, System.Text.Encoding.UTF8.GetBytes(text)));
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
