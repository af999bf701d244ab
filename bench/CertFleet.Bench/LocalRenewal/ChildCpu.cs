using System.Runtime.InteropServices;

namespace CertFleet.Bench.LocalRenewal;

/// <summary>CPU time (user + system) of this process's finished children, from getrusage(RUSAGE_CHILDREN).</summary>
internal static partial class ChildCpu
{
    private const int RusageChildren = -1;

    public static TimeSpan Total()
    {
        if (GetRusage(RusageChildren, out var usage) != 0)
        {
            throw new BenchException($"getrusage failed (errno {Marshal.GetLastPInvokeError()})");
        }
        return TimeSpan.FromMicroseconds(usage.UserSeconds * 1_000_000.0 + usage.UserMicroseconds
            + usage.SystemSeconds * 1_000_000.0 + usage.SystemMicroseconds);
    }

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, out Rusage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        // the rest of struct rusage (14 longs) is not needed but must be there
        private readonly long _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14;
    }
}
