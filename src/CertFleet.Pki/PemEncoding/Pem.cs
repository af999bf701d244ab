using System.Text;

namespace CertFleet.Pki.PemEncoding;

/// <summary>Reads and writes RFC 7468 PEM text, tolerant of the extra text openssl and operators leave around it.</summary>
public static class Pem
{
    private const string BeginMarker = "-----BEGIN ";
    private const string EndMarker = "-----END ";
    private const string Dashes = "-----";

    /// <summary>All PEM blocks of <paramref name="text"/> in order; text outside the blocks is ignored.</summary>
    public static IReadOnlyList<PemBlock> Read(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var blocks = new List<PemBlock>();
        var position = 0;
        while (true)
        {
            var start = text.IndexOf(BeginMarker, position, StringComparison.Ordinal);
            if (start < 0)
            {
                return blocks;
            }
            var label = ReadLabel(text, start + BeginMarker.Length, sourceName, "BEGIN", out var bodyStart);
            var end = text.IndexOf(EndMarker, bodyStart, StringComparison.Ordinal);
            var nextBegin = text.IndexOf(BeginMarker, bodyStart, StringComparison.Ordinal);
            if (end < 0 || (nextBegin >= 0 && nextBegin < end))
            {
                throw new PkiException(
                    $"{sourceName}: the PEM block '-----BEGIN {label}-----' has no '-----END {label}-----' line " +
                    "(the file is truncated or was cut while copying); restore the file from a backup");
            }
            var endLabel = ReadLabel(text, end + EndMarker.Length, sourceName, "END", out var blockEnd);
            if (endLabel != label)
            {
                throw new PkiException(
                    $"{sourceName}: the PEM block '-----BEGIN {label}-----' ends with '-----END {endLabel}-----'; " +
                    "the file is damaged, restore it from a backup");
            }
            var headers = new List<KeyValuePair<string, string>>();
            var der = DecodeBody(text.AsSpan(bodyStart, end - bodyStart), label, sourceName, headers);
            blocks.Add(new PemBlock(label, der, start, blockEnd) { Headers = headers });
            position = blockEnd;
        }
    }

    /// <summary>A PEM block with 64-character base64 lines, ending with a newline.</summary>
    public static string Write(string label, ReadOnlySpan<byte> der)
    {
        var base64 = Convert.ToBase64String(der);
        var builder = new StringBuilder(base64.Length + (base64.Length / 64) + (2 * label.Length) + 40);
        builder.Append(BeginMarker).Append(label).Append(Dashes).Append('\n');
        for (var i = 0; i < base64.Length; i += 64)
        {
            builder.Append(base64, i, Math.Min(64, base64.Length - i)).Append('\n');
        }
        builder.Append(EndMarker).Append(label).Append(Dashes).Append('\n');
        return builder.ToString();
    }

    private static string ReadLabel(string text, int labelStart, string sourceName, string kind, out int afterMarker)
    {
        var close = text.IndexOf(Dashes, labelStart, StringComparison.Ordinal);
        var lineEnd = text.IndexOfAny(['\r', '\n'], labelStart);
        if (close < 0 || (lineEnd >= 0 && lineEnd < close))
        {
            throw new PkiException(
                $"{sourceName}: a '-----{kind} ...' PEM line is incomplete (no closing '-----'); " +
                "the file is damaged, restore it from a backup");
        }
        afterMarker = close + Dashes.Length;
        return text[labelStart..close];
    }

    private static byte[] DecodeBody(ReadOnlySpan<char> body, string label, string sourceName, List<KeyValuePair<string, string>> headers)
    {
        var base64 = new StringBuilder(body.Length);
        foreach (var line in body.EnumerateLines())
        {
            // RFC 1421 headers (Proc-Type, DEK-Info) are not base64; the key reader explains encrypted keys.
            if (line.IndexOf(':') is var colon and >= 0)
            {
                headers.Add(new(line[..colon].Trim().ToString(), line[(colon + 1)..].Trim().ToString()));
                continue;
            }
            foreach (var c in line)
            {
                if (!char.IsWhiteSpace(c))
                {
                    base64.Append(c);
                }
            }
        }
        try
        {
            var der = Convert.FromBase64String(base64.ToString());
            if (der.Length == 0)
            {
                throw new FormatException("empty");
            }
            return der;
        }
        catch (FormatException e)
        {
            throw new PkiException(
                $"{sourceName}: the PEM block '{label}' does not hold valid base64 (the file is truncated or " +
                "was edited); restore it from a backup", e);
        }
    }
}
