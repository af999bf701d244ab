using System.Globalization;
using System.Text;

namespace CertFleet.Coordinator.Audit;

/// <summary>
/// The one rule for text the coordinator keeps from elsewhere (audit fields, what a node reports): at most a number of
/// UTF-8 bytes, and a cut is visible, so one huge value can never make an answer too big to send and never passes for
/// the whole.
/// </summary>
internal static class BoundedText
{
    // a UTF-16 char is at most 3 UTF-8 bytes: short text needs no count
    /// <summary>True when <paramref name="text"/> is at most <paramref name="maxBytes"/> UTF-8 bytes.</summary>
    public static bool Fits(string text, int maxBytes) =>
        text.Length * 3 <= maxBytes || Encoding.UTF8.GetByteCount(text) <= maxBytes;

    /// <summary><paramref name="text"/> itself when it fits; else its start and "... (truncated, N bytes)", within <paramref name="maxBytes"/>.</summary>
    public static string Truncate(string text, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Fits(text, maxBytes))
        {
            return text;
        }
        var total = Encoding.UTF8.GetByteCount(text);
        var marker = string.Create(CultureInfo.InvariantCulture, $"... (truncated, {total} bytes)");
        var room = Math.Max(0, maxBytes - marker.Length);
        var kept = 0;
        var bytes = 0;
        while (kept < text.Length)
        {
            var length = char.IsHighSurrogate(text[kept]) && kept + 1 < text.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(text.AsSpan(kept, length));
            if (bytes + size > room)
            {
                break;
            }
            bytes += size;
            kept += length;
        }
        return text[..kept] + marker;
    }
}
