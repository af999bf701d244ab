using System.Globalization;

namespace CertFleet.Cli.Output;

/// <summary>Human durations as kubeadm prints them ("364d", "23h", "9y"), and the expiry date format.</summary>
internal static class ResidualTime
{
    public static string Format(TimeSpan residual)
    {
        if (residual <= TimeSpan.Zero)
        {
            return "<expired>";
        }
        return residual switch
        {
            { TotalMinutes: < 2 } => $"{(int)residual.TotalSeconds}s",
            { TotalHours: < 1 } => $"{(int)residual.TotalMinutes}m",
            { TotalDays: < 1 } => $"{(int)residual.TotalHours}h",
            { TotalDays: < 730 } => $"{(int)residual.TotalDays}d",
            _ => $"{(int)(residual.TotalDays / 365)}y",
        };
    }

    public static string Date(DateTimeOffset moment) =>
        moment.UtcDateTime.ToString("MMM dd, yyyy HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Iso(DateTimeOffset moment) =>
        moment.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
