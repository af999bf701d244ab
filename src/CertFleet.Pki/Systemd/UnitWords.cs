using System.Globalization;
using System.Text;

namespace CertFleet.Pki.Systemd;

/// <summary>
/// Splits a setting's value into words as systemd does for <c>ExecStart=</c> and <c>Environment=</c>: whitespace
/// separates, double and single quotes group (anywhere in a word), and C escapes such as <c>\n</c>, <c>\"</c>,
/// <c>\x41</c> are decoded.
/// </summary>
internal static class UnitWords
{
    public static List<string> Split(string value, string where)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        var quoteStart = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else if (c == '\\')
                {
                    i = Unescape(value, i, word, where);
                }
                else
                {
                    word.Append(c);
                }
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
                continue;
            }
            inWord = true;
            if (c is '"' or '\'')
            {
                quote = c;
                quoteStart = i;
            }
            else if (c == '\\')
            {
                i = Unescape(value, i, word, where);
            }
            else
            {
                word.Append(c);
            }
        }
        if (quote != '\0')
        {
            throw new PkiException($"{where}: the {(quote == '"' ? "double" : "single")} quote at column {quoteStart + 1} " +
                $"of '{value}' is never closed; systemd rejects this setting; close the quote in the unit file");
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }

    // Returns the index of the last character consumed.
    private static int Unescape(string value, int backslash, StringBuilder word, string where)
    {
        if (backslash + 1 >= value.Length)
        {
            throw new PkiException($"{where}: '{value}' ends with a lone '\\'; escape it as '\\\\' in the unit file");
        }
        var next = value[backslash + 1];
        switch (next)
        {
            case 'a': word.Append('\a'); return backslash + 1;
            case 'b': word.Append('\b'); return backslash + 1;
            case 'f': word.Append('\f'); return backslash + 1;
            case 'n': word.Append('\n'); return backslash + 1;
            case 'r': word.Append('\r'); return backslash + 1;
            case 't': word.Append('\t'); return backslash + 1;
            case 'v': word.Append('\v'); return backslash + 1;
            case 's': word.Append(' '); return backslash + 1;
            case 'x' when HexAt(value, backslash + 2, 2, out var x):
                word.Append((char)x);
                return backslash + 3;
            case 'u' when HexAt(value, backslash + 2, 4, out var u):
                word.Append((char)u);
                return backslash + 5;
            case 'U' when HexAt(value, backslash + 2, 8, out var bigU):
                word.Append(char.ConvertFromUtf32(bigU));
                return backslash + 9;
            default:
                // \\, \", \', \$, \; and any other character stand for themselves.
                word.Append(next);
                return backslash + 1;
        }
    }

    private static bool HexAt(string value, int start, int length, out int result)
    {
        result = 0;
        return start + length <= value.Length &&
            int.TryParse(value.AsSpan(start, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out result) &&
            (length < 8 || result is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF));
    }
}
