namespace CertFleet.Cli.Output;

/// <summary>A plain left-aligned text table with a header row, as kubeadm and kubectl print them.</summary>
internal sealed class TextTable(params string[] headers)
{
    private const string Gap = "   ";

    private readonly List<(string[] Cells, List<(int Column, string Text)> Under)> _rows = [];

    public int RowCount => _rows.Count;

    // every cell may hold a name or a message from outside; escaped before the widths are measured
    public void Add(params string[] cells) => _rows.Add(([.. cells.Select(TerminalText.Shown)], []));

    /// <summary>
    /// A line under the last row, set in two places from where <paramref name="column"/> starts (the files a step
    /// writes): a list that belongs to one row, which as a cell would make its column as wide as its longest item.
    /// It widens nothing.
    /// </summary>
    public void AddUnder(int column, string text) => _rows[^1].Under.Add((column, TerminalText.Shown(text)));

    public void WriteTo(TextWriter writer)
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r.Cells[i].Length).Append(h.Length).Max()).ToArray();
        WriteRow(writer, headers, widths);
        foreach (var (cells, under) in _rows)
        {
            WriteRow(writer, cells, widths);
            foreach (var (column, text) in under)
            {
                writer.WriteLine($"{new string(' ', widths.Take(column).Sum(w => w + Gap.Length) + 2)}{text}");
            }
        }
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var padded = cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]));
        writer.WriteLine(string.Join(Gap, padded).TrimEnd());
    }
}
