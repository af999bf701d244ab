using System.Globalization;

namespace CertFleet.Coordinator.Hosting;

/// <summary>Parses a weekly renewal window such as "Sat 02:00-04:00" (UTC).</summary>
internal static class WindowText
{
    private static readonly string[] Formats = ["H:mm", "HH:mm"];

    public static RenewalWindow? TryParse(string? text, out string? error)
    {
        error = null;
        var parts = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var times = parts.Length == 2 ? parts[1].Split('-') : [];
        if (parts.Length != 2 || times.Length != 2)
        {
            error = $"--window '{text}' is not DAY HH:MM-HH:MM; give e.g. --window \"Sat 02:00-04:00\" (UTC)";
            return null;
        }
        if (!TryParseDay(parts[0], out var day))
        {
            error = $"--window '{text}': '{parts[0]}' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)";
            return null;
        }
        if (!TimeOnly.TryParseExact(times[0], Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            || !TimeOnly.TryParseExact(times[1], Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var end))
        {
            error = $"--window '{text}': the times must be HH:MM (24-hour, UTC), e.g. 02:00-04:00";
            return null;
        }
        if (end <= start)
        {
            error = $"--window '{text}': the window must end after it starts on the same day (it cannot cross midnight)";
            return null;
        }
        return new RenewalWindow(day, start, end);
    }

    private static bool TryParseDay(string text, out DayOfWeek day)
    {
        foreach (var candidate in Enum.GetValues<DayOfWeek>())
        {
            var name = candidate.ToString();
            if (string.Equals(text, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(text, name[..3], StringComparison.OrdinalIgnoreCase))
            {
                day = candidate;
                return true;
            }
        }
        day = default;
        return false;
    }
}
