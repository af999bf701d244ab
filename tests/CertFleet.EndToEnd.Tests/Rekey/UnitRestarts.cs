using System.Globalization;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>The lines of the fleet's restart log ("EPOCH NODE UNIT start|end") near a moment, timed from it.</summary>
internal static class UnitRestarts
{
    /// <summary>"-1.32s master-2 etcd start", ... for the restarts from <paramref name="before"/> the moment to <paramref name="after"/> it.</summary>
    public static IReadOnlyList<string> Around(string restartLog, DateTimeOffset moment, TimeSpan before, TimeSpan after)
    {
        if (!File.Exists(restartLog))
        {
            return ["(no restart log)"];
        }
        var at = moment.ToUnixTimeMilliseconds() / 1000.0;
        var lines = new List<string>();
        foreach (var line in File.ReadLines(restartLog))
        {
            var fields = line.Split(' ', 2);
            if (fields.Length == 2 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var time)
                && time >= at - before.TotalSeconds && time <= at + after.TotalSeconds)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{time - at:+0.00;-0.00;0.00}s {fields[1]}"));
            }
        }
        return lines.Count == 0 ? ["(none)"] : lines;
    }
}
