using System.Globalization;

namespace CertFleet.Cli.Fleet;

/// <summary>Durations as operators write them: 30d, 12h, 90m, 45s, 2w.</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return false;
        }
        duration = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            'w' => TimeSpan.FromDays(7 * n),
            _ => TimeSpan.Zero,
        };
        return duration > TimeSpan.Zero;
    }

    public static System.CommandLine.Option<TimeSpan?> Option(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (TryParse(text, out var duration))
            {
                return duration;
            }
            result.AddError($"{name}: '{text}' is not a duration; write it like 30d, 12h or 90m");
            return null;
        },
    };
}
