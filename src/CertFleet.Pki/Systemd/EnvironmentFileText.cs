using System.Text;

namespace CertFleet.Pki.Systemd;

/// <summary>
/// Reads an <c>EnvironmentFile=</c> the way systemd does: <c>KEY=VALUE</c> lines, <c>#</c>/<c>;</c> comment lines,
/// single quotes (literal), double quotes (with <c>\"</c>, <c>\\</c>, <c>\$</c>, <c>\`</c> escapes), a backslash
/// escaping the next character outside quotes, and a trailing backslash continuing the line.
/// </summary>
internal static class EnvironmentFileText
{
    public static List<KeyValuePair<string, string>> Read(string text)
    {
        var result = new List<KeyValuePair<string, string>>();
        var i = text.StartsWith('\uFEFF') ? 1 : 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            if (i >= text.Length)
            {
                break;
            }
            if (text[i] is '#' or ';')
            {
                i = SkipLine(text, i);
                continue;
            }
            var lineEnd = text.IndexOf('\n', i) is var n and >= 0 ? n : text.Length;
            var equals = text.IndexOf('=', i, lineEnd - i);
            if (equals < 0)
            {
                // systemd ignores a line without '='.
                i = lineEnd;
                continue;
            }
            var key = text[i..equals].Trim();
            (var value, i) = ReadValue(text, equals + 1);
            if (IsValidName(key))
            {
                result.Add(new(key, value));
            }
        }
        return result;
    }

    public static bool IsValidName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static (string Value, int Next) ReadValue(string text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t')
        {
            i++;
        }
        var value = new StringBuilder();
        var trimTo = 0; // unquoted trailing whitespace is dropped; quoted whitespace is kept
        while (i < text.Length && text[i] != '\n')
        {
            var c = text[i];
            if (c == '\'')
            {
                var close = text.IndexOf('\'', i + 1) is var q and >= 0 ? q : text.Length;
                value.Append(text, i + 1, close - i - 1);
                trimTo = value.Length;
                i = close + 1;
            }
            else if (c == '"')
            {
                i = ReadDoubleQuoted(text, i + 1, value);
                trimTo = value.Length;
            }
            else if (c == '\\' && i + 1 < text.Length)
            {
                if (text[i + 1] != '\n' && text[i + 1] != '\r')
                {
                    value.Append(text[i + 1]);
                    trimTo = value.Length;
                }
                i += text[i + 1] == '\r' && i + 2 < text.Length && text[i + 2] == '\n' ? 3 : 2;
            }
            else
            {
                value.Append(c);
                if (!char.IsWhiteSpace(c))
                {
                    trimTo = value.Length;
                }
                i++;
            }
        }
        value.Length = trimTo;
        return (value.ToString(), i);
    }

    private static int ReadDoubleQuoted(string text, int i, StringBuilder value)
    {
        while (i < text.Length && text[i] != '"')
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                var next = text[i + 1];
                if (next is '"' or '\\' or '`' or '$')
                {
                    value.Append(next);
                }
                else if (next != '\n')
                {
                    value.Append('\\').Append(next);
                }
                i += 2;
                continue;
            }
            value.Append(text[i]);
            i++;
        }
        return i + 1;
    }

    private static int SkipLine(string text, int i) => text.IndexOf('\n', i) is var n and >= 0 ? n + 1 : text.Length;
}
