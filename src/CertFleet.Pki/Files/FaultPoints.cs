namespace CertFleet.Pki.Files;

/// <summary>
/// Test-only crash hooks at the moments where a crash matters for file safety. With the environment variable
/// CERTFLEET_FAULT_POINT set to a point's name the process kills itself with SIGKILL there: a real crash, no
/// finally blocks, no flushing. Without it a call costs a field read.
/// </summary>
public static class FaultPoints
{
    public const string VariableName = "CERTFLEET_FAULT_POINT";

    /// <summary>The temporary file is complete and flushed; the original is still in place.</summary>
    public const string AtomicWriteAfterTempWritten = "atomic-write:after-temp-written";

    /// <summary>The new file has been renamed over the original; the folder has not been flushed yet.</summary>
    public const string AtomicWriteAfterRename = "atomic-write:after-rename";

    /// <summary>One file has been copied into the backup set and flushed.</summary>
    public const string BackupAfterSave = "backup:after-save";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(VariableName) is { Length: > 0 } name
        ? name
        : null;

    // AsyncLocal so that a test's hook fires only in that test's flow, not in tests running beside it.
    private static readonly AsyncLocal<Action<string>?> Hook = new();

    /// <summary>In-process stand-in for the crash: a test sets it to throw, which skips everything after the point.</summary>
    internal static Action<string>? OnReached
    {
        get => Hook.Value;
        set => Hook.Value = value;
    }

    public static void Reached(string name)
    {
        Hook.Value?.Invoke(name);
        if (Armed is not null && string.Equals(Armed, name, StringComparison.Ordinal))
        {
            Crash();
        }
    }

    private static void Crash()
    {
        LibC.Kill(Environment.ProcessId, LibC.SIGKILL);
        // SIGKILL cannot be caught; reaching here means kill(2) itself failed, so still die without cleanup
        Environment.FailFast($"{VariableName}: could not SIGKILL this process");
    }
}
