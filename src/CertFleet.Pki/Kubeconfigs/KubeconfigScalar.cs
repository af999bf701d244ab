using System.Globalization;
using System.Text;

namespace CertFleet.Pki.Kubeconfigs;

/// <summary>Writes a new value in place of a YAML scalar token, in the style the token had.</summary>
internal static class KubeconfigScalar
{
    public static string Format(string text, int start, int end, string value)
    {
        var first = start < end ? text[start] : '\0';
        switch (first)
        {
            case '"':
                return DoubleQuoted(value);
            case '\'':
                return value.Any(char.IsControl) ? DoubleQuoted(value) : "'" + value.Replace("'", "''") + "'";
            case '|' or '>':
                // A block scalar's token ends with its line break(s); keep them so the next key stays on its line.
                var span = text.AsSpan(start, end - start);
                var breakAt = span.TrimEnd(" \t\r\n").Length;
                while (breakAt < span.Length && span[breakAt] is ' ' or '\t')
                {
                    breakAt++;
                }
                return DoubleQuoted(value) + span[breakAt..].ToString();
            default:
                var formatted = IsPlainSafe(value) ? value : DoubleQuoted(value);
                // An empty value ("key:") has an empty token right after the colon: keep a space before the new text.
                return start == end && start > 0 && !char.IsWhiteSpace(text[start - 1]) ? " " + formatted : formatted;
        }
    }

    // Paths and base64 are plain-safe; anything that YAML could read as another type or structure gets quotes.
    private static bool IsPlainSafe(string value)
    {
        if (value.Length == 0 || !value.Any(c => char.IsLetter(c) || c == '/'))
        {
            return false;
        }
        if (value.ToLowerInvariant() is "true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n" or "null")
        {
            return false;
        }
        return (char.IsAsciiLetterOrDigit(value[0]) || value[0] is '/' or '_') && value.All(IsPlainChar);
    }

    private static bool IsPlainChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or '=' or '~' or '@' or ':';

    private static string DoubleQuoted(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
}
