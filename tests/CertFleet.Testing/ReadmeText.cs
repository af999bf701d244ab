namespace CertFleet.Testing;

/// <summary>
/// A README of the repository read as a user reads it: a section under its heading (to the next heading of the same
/// or a higher level), and the shell blocks in it (```sh and ```bash fences, indented in a list item or not).
/// </summary>
public sealed class ReadmeText
{
    private readonly string[] _lines;

    private ReadmeText(string path, string[] lines)
    {
        Path = path;
        _lines = lines;
    }

    public string Path { get; }

    /// <summary>The file at the repository's top level, e.g. "README.md".</summary>
    public static ReadmeText Open(string name) =>
        new(System.IO.Path.Combine(SharedFixtures.RepositoryRoot, name), File.ReadAllLines(System.IO.Path.Combine(SharedFixtures.RepositoryRoot, name)));

    /// <summary>The lines of the section whose heading is exactly <paramref name="heading"/> ("## Quick start"), heading included.</summary>
    public IReadOnlyList<string> Section(string heading)
    {
        var start = Array.IndexOf(_lines, heading);
        if (start < 0)
        {
            throw new InvalidOperationException($"{Path} has no heading '{heading}'");
        }
        var level = heading.TakeWhile(c => c == '#').Count();
        var end = start + 1;
        var fenced = false;
        for (; end < _lines.Length; end++)
        {
            var line = _lines[end];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
            }
            var hashes = line.TakeWhile(c => c == '#').Count();
            if (!fenced && hashes is > 0 && hashes <= level && line.Length > hashes && line[hashes] == ' ')
            {
                break;
            }
        }
        return _lines[start..end];
    }

    /// <summary>Every ```sh or ```bash block of <paramref name="section"/>, each as its lines without the fence's indentation.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> ShellBlocks(IReadOnlyList<string> section)
    {
        var blocks = new List<IReadOnlyList<string>>();
        List<string>? current = null;
        var indent = 0;
        var inOther = false;
        foreach (var line in section)
        {
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                if (current is not null)
                {
                    blocks.Add(current);
                    current = null;
                }
                else if (inOther)
                {
                    inOther = false;
                }
                else if (trimmed is "```sh" or "```bash")
                {
                    current = [];
                    indent = line.Length - trimmed.Length;
                }
                else
                {
                    inOther = true;
                }
                continue;
            }
            current?.Add(line.Length >= indent && string.IsNullOrWhiteSpace(line[..indent]) ? line[indent..] : line.TrimStart());
        }
        return blocks;
    }

    /// <summary>
    /// The command lines of shell blocks as a reader would type them: without a trailing comment (which a translation
    /// may translate), blank and comment-only lines left out.
    /// </summary>
    public static IEnumerable<string> CommandLines(IEnumerable<IReadOnlyList<string>> blocks) =>
        blocks.SelectMany(b => b)
            .Select(WithoutComment)
            .Where(l => l.Length > 0);

    /// <summary>The line up to a `#` that starts a comment (after a blank, outside quotes), trailing blanks removed.</summary>
    public static string WithoutComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                return line[..i].Trim();
            }
        }
        return line.Trim();
    }
}
