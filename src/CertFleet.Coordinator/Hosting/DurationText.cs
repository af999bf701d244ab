using System.Globalization;

namespace CertFleet.Coordinator.Hosting;

/// <summary>Durations as operators write them on command lines: 30d, 12h, 90m, 45s.</summary>
internal static class DurationText
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length < 2)
        {
            return false;
        }
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count <= 0 || count > 100_000)
        {
            return false;
        }
        duration = char.ToLowerInvariant(text[^1]) switch
        {
            'd' => TimeSpan.FromDays(count),
            'h' => TimeSpan.FromHours(count),
            'm' => TimeSpan.FromMinutes(count),
            's' => TimeSpan.FromSeconds(count),
            _ => TimeSpan.Zero,
        };
        return duration > TimeSpan.Zero;
    }
}
