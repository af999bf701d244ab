using System.Globalization;
using System.Text;

namespace CertFleet.Cli.Output;

/// <summary>
/// The one rule for text that came from outside (a file name on the node, anything an agent or the coordinator sent)
/// and is about to reach an operator's terminal: every character a terminal acts on instead of showing is written as
/// an escape. C0 controls and DEL become <c>\xNN</c> (ESC starts colour, title and cursor commands; CR returns over
/// what was printed; LF starts a line that can fake a verdict), C1 controls, the bidirectional overrides and isolates
/// (which reverse what follows), the line and paragraph separators and U+FFFD (what a name that is not UTF-8 was
/// decoded to, so the operator sees the name is not what it seems) become <c>\uNNNN</c>. Everything else is shown as it is.
/// JSON output needs none of this: its encoder escapes all of these itself.
/// </summary>
internal static class TerminalText
{
    /// <summary><paramref name="text"/> as it may be shown on a terminal (null: "").</summary>
    public static string Shown(string? text) => Escape(text ?? "", keepNewLines: false);

    /// <summary>The same rule for whole lines of output: new lines and tabs written on purpose stay.</summary>
    public static string Lines(string text) => Escape(text, keepNewLines: true);

    public static bool IsShownEscaped(char c) =>
        c < ' ' || c == '\u007f' || c is >= '\u0080' and <= '\u009f'
        || c is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029' or '\ufffd'
        || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';

    private static string Escape(string text, bool keepNewLines)
    {
        var first = FirstEscaped(text, keepNewLines);
        if (first < 0)
        {
            return text; // the usual case: nothing to do, nothing allocated
        }
        var shown = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            AppendShown(shown, text[i], keepNewLines);
        }
        return shown.ToString();
    }

    public static void AppendShown(StringBuilder shown, char c, bool keepNewLines)
    {
        if (!NeedsEscape(c, keepNewLines))
        {
            shown.Append(c);
        }
        else if (c < '\u0080')
        {
            shown.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
        }
        else
        {
            shown.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
    }

    private static int FirstEscaped(string text, bool keepNewLines)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (NeedsEscape(text[i], keepNewLines))
            {
                return i;
            }
        }
        return -1;
    }

    private static bool NeedsEscape(char c, bool keepNewLines) =>
        IsShownEscaped(c) && !(keepNewLines && c is '\n' or '\t');
}
