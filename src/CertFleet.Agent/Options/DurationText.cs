using System.Globalization;

namespace CertFleet.Agent.Options;

/// <summary>Durations as operators write them: 30s, 5m, 1h, 2d.</summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }
        TimeSpan? unit = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            _ => null,
        };
        if (unit is null || amount <= 0 || amount > 366L * 24 * 3600)
        {
            return false;
        }
        duration = unit.Value * amount;
        return duration <= TimeSpan.FromDays(366);
    }
}
