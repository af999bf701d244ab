using System.Globalization;
using System.Text;

namespace CertFleet.Pki.Text;

/// <summary>
/// Durations as operators write them to all three programs (README "Durations and hashes"): a whole number and a unit,
/// <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c> or <c>w</c> in either case (90s, 15m, 12h, 30d, 2w), or several such
/// parts from the largest unit down, each unit once (1h30m, 1d12h). More than zero; at most what a
/// <see cref="TimeSpan"/> holds (an option may allow less, and says so). Spaces around the value are ignored,
/// spaces inside it are not (a command line would split it anyway). No sign, no fraction, no months or years:
/// neither has a fixed length.
/// </summary>
public static class DurationText
{
    /// <summary>What a duration looks like, the end of every error message about one.</summary>
    public const string Grammar =
        "a whole number and a unit, s, m, h, d or w (90s, 15m, 12h, 30d, 2w), or several from the largest unit down (1h30m)";

    /// <summary>The longest duration, in whole seconds: <see cref="TimeSpan.MaxValue"/> without its fraction.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerSecond);

    private const long SecondsPerDay = 24 * 3600;

    // largest first: a part's unit must come after the unit of the part before it
    private static readonly (char Unit, long Seconds)[] Units = [('w', 7 * SecondsPerDay), ('d', SecondsPerDay), ('h', 3600), ('m', 60), ('s', 1)];

    /// <summary>Reads <paramref name="text"/>; when it is not a duration, <paramref name="problem"/> says why in a few words.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, out string problem)
    {
        duration = default;
        problem = Read(text?.Trim() ?? "", out var seconds);
        if (problem.Length > 0)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>
    /// The error an option gives for a value that is not a duration: it names the option, the value, what is wrong
    /// and what a duration looks like.
    /// </summary>
    public static string Error(string option, string? text, string problem) =>
        $"{option} '{text}' is not a duration: {problem}; write {Grammar}";

    /// <summary>
    /// The duration as an operator would write it, whole days, hours, minutes and seconds from the largest down
    /// (30d, 1h30m, 45s; 0s for zero; never weeks, as 30d reads better than 4w2d); a fraction of a second is left out.
    /// <see cref="TryParse"/> reads it back as the same duration.
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        var seconds = duration.Ticks / TimeSpan.TicksPerSecond;
        if (seconds == 0)
        {
            return "0s";
        }
        var text = new StringBuilder();
        foreach (var (unit, length) in Units.Skip(1))
        {
            if (seconds >= length)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / length}{unit}");
                seconds %= length;
            }
        }
        return text.ToString();
    }

    /// <returns>"" and the whole seconds, or what is wrong</returns>
    private static string Read(string text, out long total)
    {
        total = 0;
        if (text.Length == 0)
        {
            return "it is empty";
        }
        if (text[0] is '-' or '+')
        {
            return text[0] == '-' ? "a duration is never negative" : "write it without a sign";
        }
        var previous = -1;
        var tooLong = false;
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
            var digits = text[start..i];
            if (digits.Length == 0)
            {
                return Unexpected(text[i]);
            }
            if (i == text.Length)
            {
                return $"{digits} has no unit (s, m, h, d or w)";
            }
            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }
            var unitText = text[unitStart..i];
            if (unitText.Length == 0)
            {
                return text[i] is '.' or ','
                    ? "only whole numbers: write 1h30m or 90m, not 1.5h"
                    : Unexpected(text[i]);
            }
            var index = unitText.Length == 1 ? Array.FindIndex(Units, u => u.Unit == char.ToLowerInvariant(unitText[0])) : -1;
            if (index < 0)
            {
                return NotAUnit(unitText);
            }
            if (index <= previous)
            {
                return "units go from the largest to the smallest, each once (1h30m, not 30m1h)";
            }
            previous = index;
            // keep reading when it is too long: a later part may still be malformed, which is the better message
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
                || amount > Longest.Ticks / TimeSpan.TicksPerSecond / Units[index].Seconds)
            {
                tooLong = true;
                continue;
            }
            total += amount * Units[index].Seconds;
            tooLong |= total > Longest.Ticks / TimeSpan.TicksPerSecond;
        }
        if (tooLong)
        {
            return $"it is longer than the longest duration, {Format(Longest)}";
        }
        return total == 0 ? "it is zero; a duration is at least 1s" : "";
    }

    private static string Unexpected(char found) => char.IsWhiteSpace(found)
        ? "it has a space in it; write the parts together (1h30m)"
        : char.IsAsciiLetter(found) ? $"'{found}' needs a number before it" : $"'{found}' does not belong in a duration";

    private static string NotAUnit(string unit)
    {
        var lower = unit.ToLowerInvariant();
        return lower.StartsWith("mo", StringComparison.Ordinal) || lower.StartsWith('y')
            ? $"'{unit}' is not a unit: months and years have no fixed length (write 30d or 365d)"
            : $"'{unit}' is not a unit (s, m, h, d or w)";
    }
}
