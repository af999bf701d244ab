using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Memory;

/// <summary>
/// Gives memory back once the agent goes idle (after a report or a step): the agent runs on every node all the time
/// and works a few seconds every few minutes, so what the GC and malloc keep for the next burst is pure cost
/// (docs/AGENT-MEMORY.md has what each part gave). Only the certfleet-agent process releases: a host inside another
/// process (`certfleet demo`, the tests) leaves that process's memory alone.
/// </summary>
internal sealed partial class IdleMemory(bool release, ILogger<IdleMemory> logger)
{
    private bool _mallocTrimMissing;

    public void Release()
    {
        if (!release)
        {
            return;
        }
        // first: reading /proc/self/smaps allocates, and the collection below takes that back too
        // only for the native binary: under the JIT the runtime's and the framework's code pages are hot, and each
        // release would only make them fault back in (CPU for nothing; the test suite's agent processes paid it)
        var unmappedKib = OperatingSystem.IsLinux() && !RuntimeFeature.IsDynamicCodeCompiled ? MappedFilePages.Release() / 1024 : 0;
        // Aggressive: a blocking, compacting collection of every generation (the large object heap included) that also
        // decommits the free regions and the gen0 budget the GC would otherwise keep committed. A few ms on this heap.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        TrimNativeHeap();
        Log.Released(logger, unmappedKib);
    }

    /// <summary>OpenSSL's X.509 parsing and TLS allocate with malloc; glibc keeps freed chunks in its arenas.</summary>
    private void TrimNativeHeap()
    {
        if (_mallocTrimMissing || !OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc (musl has no malloc_trim): nothing to trim with, and nothing wrong with the node
            _mallocTrimMissing = true;
            Log.NoMallocTrim(logger, e.Message);
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    private static partial class Log
    {
        [LoggerMessage(EventId = 261, Level = LogLevel.Debug, Message = "Idle: memory given back, {MappedKib} KiB of read-only file mappings unmapped")]
        public static partial void Released(ILogger logger, long mappedKib);

        [LoggerMessage(EventId = 260, Level = LogLevel.Debug, Message = "Native heap not trimmed (no glibc malloc_trim): {Reason}")]
        public static partial void NoMallocTrim(ILogger logger, string reason);
    }
}
