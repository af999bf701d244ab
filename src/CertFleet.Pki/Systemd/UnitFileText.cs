namespace CertFleet.Pki.Systemd;

/// <summary>
/// Splits a unit file (or drop-in) into settings the way systemd reads it: <c>#</c> and <c>;</c> comment lines,
/// <c>[Section]</c> headers, and a trailing <c>\</c> joining the next line with a space (comment lines inside a
/// continuation are skipped, as systemd does).
/// </summary>
internal static class UnitFileText
{
    public static List<UnitSetting> Read(string text, string source)
    {
        var settings = new List<UnitSetting>();
        var section = "";
        string? pending = null;
        var pendingLine = 0;
        var lineNumber = 0;
        // The empty "line" after a final newline is not a line: a continuation dangling there is an error.
        var body = (text.EndsWith('\n') ? text.AsSpan(0, text.Length - 1) : text.AsSpan()).TrimStart('\uFEFF');
        foreach (var rawLine in body.EnumerateLines())
        {
            lineNumber++;
            var line = rawLine.Trim().ToString();
            if (line.Length > 0 && line[0] is '#' or ';')
            {
                continue;
            }
            if (pending is null && line.Length == 0)
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pendingLine = pending is null ? lineNumber : pendingLine;
                pending = (pending ?? "") + line[..^1] + " ";
                continue;
            }
            var startLine = pending is null ? lineNumber : pendingLine;
            var logical = (pending ?? "") + line;
            pending = null;
            if (logical.Trim().Length == 0)
            {
                continue;
            }
            if (logical.StartsWith('['))
            {
                section = logical.EndsWith(']')
                    ? logical[1..^1]
                    : throw new PkiException($"{source}: line {startLine}: section header '{logical}' has no closing ']'; " +
                        "fix the unit file");
                continue;
            }
            var equals = logical.IndexOf('=');
            if (equals <= 0)
            {
                // systemd ignores such a line with a warning; so do we, it names no file.
                continue;
            }
            settings.Add(new UnitSetting(section, logical[..equals].Trim(), logical[(equals + 1)..].Trim(), source, startLine));
        }
        if (pending is not null)
        {
            throw new PkiException($"{source}: line {pendingLine}: the setting ends with a '\\' continuation but the file " +
                "ends there; remove the trailing '\\' or add the missing line");
        }
        return settings;
    }
}
