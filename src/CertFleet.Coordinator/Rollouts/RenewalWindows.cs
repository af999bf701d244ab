using CertFleet.Coordinator.Hosting;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>Whether a moment falls in a weekly window; "Sat 22:00-02:00" runs past midnight into Sunday.</summary>
internal static class RenewalWindows
{
    public static bool Contains(this RenewalWindow window, DateTimeOffset moment)
    {
        ArgumentNullException.ThrowIfNull(window);
        var utc = moment.UtcDateTime;
        var time = TimeOnly.FromDateTime(utc);
        if (window.Start < window.End)
        {
            return utc.DayOfWeek == window.Day && time >= window.Start && time < window.End;
        }
        var nextDay = (DayOfWeek)(((int)window.Day + 1) % 7);
        return (utc.DayOfWeek == window.Day && time >= window.Start) || (utc.DayOfWeek == nextDay && time < window.End);
    }
}
