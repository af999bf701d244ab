using System.Globalization;

namespace CertFleet.Coordinator.State;

/// <summary>
/// How every table of the state database holds a time: ISO 8601 UTC text with seven fractional digits
/// ("2026-12-06T16:59:55.7757836Z"). Fixed width, so text order is time order (a comparison, ORDER BY, the audit's
/// "since" need no conversion); exact to .NET's 100 ns tick, so a time reads back as it was written; and readable
/// with `sqlite3` when an operator looks into state.db. The audit trail always stored its times so; the other
/// tables stored Unix milliseconds until schema version 2 (<see cref="Migrations.TimesAsText"/>).
/// </summary>
internal static class StateTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string ToText(DateTimeOffset time) => time.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset FromText(string text) =>
        DateTimeOffset.ParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
