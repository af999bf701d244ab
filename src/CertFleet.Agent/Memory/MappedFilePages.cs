using System.Globalization;
using System.Runtime.InteropServices;

namespace CertFleet.Agent.Memory;

/// <summary>
/// Unmaps the clean pages of the binary and the libraries that start-up and the last burst faulted in (with the
/// kernel's fault-around, 64 KiB at a time): most of the 11 MB NativeAOT binary is resident after start, little of it
/// runs while idle. Only read-only file mappings with no private (copy-on-write) page are touched, so nothing is lost:
/// a page the agent uses again comes back from the page cache, where MADV_DONTNEED leaves it.
/// </summary>
internal static partial class MappedFilePages
{
    private const int MadvDontNeed = 4;

    /// <summary>Returns the bytes unmapped; 0 when /proc is not there or nothing qualified.</summary>
    public static long Release()
    {
        long released = 0;
        foreach (var (start, length) in CleanReadOnlyFileMappings())
        {
            if (MAdvise(start, length, MadvDontNeed) == 0)
            {
                released += (long)length;
            }
        }
        return released;
    }

    /// <summary>/proc/self/smaps: "start-end perms offset dev inode path" headers, then fields such as "Anonymous: 0 kB".</summary>
    private static List<(nint Start, nuint Length)> CleanReadOnlyFileMappings()
    {
        var clean = new List<(nint, nuint)>();
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/smaps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return clean;
        }
        (nint Start, nuint Length)? candidate = null;
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && fields[0].Contains('-', StringComparison.Ordinal) && !fields[0].EndsWith(':'))
            {
                candidate = null;
                var range = fields[0].Split('-');
                // a file (path after the inode), mapped private and read-only: code and read-only data
                if (fields.Length >= 6 && fields[5].StartsWith('/') && fields[1] is "r-xp" or "r--p"
                    && ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                    && ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
                {
                    candidate = ((nint)start, (nuint)(end - start));
                }
            }
            else if (candidate is { } mapping && fields is ["Anonymous:", "0", "kB"])
            {
                clean.Add(mapping); // no copy-on-write page (relocated data): every page is the file's own
                candidate = null;
            }
        }
        return clean;
    }

    [LibraryImport("libc.so.6", EntryPoint = "madvise", SetLastError = true)]
    private static partial int MAdvise(nint address, nuint length, int advice);
}
