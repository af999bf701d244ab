namespace CertFleet.Cli.Output;

/// <summary>A plain left-aligned text table with a header row, as kubeadm and kubectl print them.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int RowCount => _rows.Count;

    // every cell may hold a name or a message from outside; escaped before the widths are measured
    public void Add(params string[] cells) => _rows.Add([.. cells.Select(TerminalText.Shown)]);

    public void WriteTo(TextWriter writer)
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        WriteRow(writer, headers, widths);
        foreach (var row in _rows)
        {
            WriteRow(writer, row, widths);
        }
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var padded = cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]));
        writer.WriteLine(string.Join("   ", padded).TrimEnd());
    }
}
