using System.Text;

namespace CertFleet.Cli.Output;

/// <summary>
/// What every command writes to goes through this (<see cref="CertFleetCli"/> wraps stdout and stderr in it), so a
/// string from outside that a command forgot to pass through <see cref="TerminalText.Shown"/> still cannot send a
/// terminal command: the same rule, keeping only the new lines and tabs the output itself is laid out with.
/// </summary>
internal sealed class TerminalWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // the base accepts null too
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value)
    {
        if (TerminalText.IsShownEscaped(value) && value is not ('\n' or '\t'))
        {
            inner.Write(TerminalText.Lines(value.ToString()));
        }
        else
        {
            inner.Write(value);
        }
    }

    public override void Write(string? value) => inner.Write(value is null ? null : TerminalText.Lines(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value)
    {
        Write(value);
        inner.WriteLine();
    }

    public override void WriteLine() => inner.WriteLine();

    /// <summary>
    /// Writes <paramref name="line"/> (escaped like everything else) over the terminal's current line: a carriage
    /// return, the text, and the erase-to-end-of-line sequence. The one place the CLI itself sends control characters.
    /// </summary>
    public void WriteOverCurrentLine(string line)
    {
        inner.Write('\r');
        inner.Write(TerminalText.Shown(line));
        inner.Write("\u001b[K");
        inner.Flush();
    }

    public override void Flush() => inner.Flush();

    protected override void Dispose(bool disposing)
    {
        // the inner writer (the console, a test's StringWriter) is not ours to close
        if (disposing)
        {
            inner.Flush();
        }
        base.Dispose(disposing);
    }
}
