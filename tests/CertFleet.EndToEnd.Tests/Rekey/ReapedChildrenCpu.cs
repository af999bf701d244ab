using System.Globalization;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// The CPU time (user + system) of this process's children that have exited and been waited for, from
/// /proc/self/stat (cutime, cstime): read before and after a child runs, the difference is what the child cost.
/// </summary>
internal static class ReapedChildrenCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on

    public static TimeSpan Now()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        // the fields after the command name, which is in parentheses and may hold spaces
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields 16 and 17 of proc(5), counted from the state (field 3) here
        var ticks = long.Parse(fields[16 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[17 - 3], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
