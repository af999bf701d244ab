using System.Text;
using CertFleet.Pki.Files;

namespace CertFleet.Coordinator.State.Transfer;

/// <summary>
/// The mark migrate-state leaves beside a state.db it copied into PostgreSQL. state.db is kept as it was (the backup),
/// so a coordinator started on it again, say by a unit that still lacks --database, would act on the fleet from stale
/// state beside the group: two active coordinators. It refuses to start while the mark is there; deleting the mark is
/// how an operator goes back to SQLite on purpose. The mark is made before the copy starts, so a coordinator started
/// during the copy refuses too.
/// </summary>
internal static class MovedState
{
    public const string FileName = "state.db.moved";

    /// <summary>What a mark is read up to: it holds one URL and a time.</summary>
    private const int MaxBytes = 1024;

    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, FileName);

    public static void Mark(string stateDirectory, string to, DateTimeOffset at) =>
        AtomicFile.Replace(PathIn(stateDirectory), Encoding.UTF8.GetBytes($"{to} {at:yyyy-MM-ddTHH:mm:ssZ}\n"));

    public static void Unmark(string stateDirectory) => File.Delete(PathIn(stateDirectory));

    /// <summary>Where and when the state in <paramref name="stateDirectory"/> was copied ("postgresql://… on …"); null when it was not.</summary>
    public static string? CopiedTo(string stateDirectory)
    {
        var path = PathIn(stateDirectory);
        return File.Exists(path) ? Where(path) : null;
    }

    /// <summary>Why a coordinator must not start on the SQLite state in <paramref name="stateDirectory"/>; null when it was not moved.</summary>
    public static string? Refusal(string stateDirectory) => CopiedTo(stateDirectory) is { } where
        ? $"{Path.Combine(stateDirectory, "state.db")} was copied into {where} by certfleet-coordinator migrate-state, and the "
            + "group's state is there now; start with --database and its password option (database: in /etc/certfleet/coordinator.conf). "
            + $"To run on the SQLite state again on purpose (it is as it was before the copy), delete {PathIn(stateDirectory)}"
        : null;

    /// <summary>The mark's URL and time, when they read as such (it lies in the state dir, but is shown as text only if plain).</summary>
    private static string Where(string path)
    {
        var buffer = new byte[MaxBytes];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(buffer, MaxBytes, throwOnEndOfStream: false);
        }
        var text = Encoding.UTF8.GetString(buffer, 0, read).TrimEnd('\n');
        var parts = text.Split(' ');
        return parts.Length == 2 && parts[0].StartsWith("postgresql://", StringComparison.Ordinal) && text.All(c => c is >= '!' and <= '~' or ' ')
            ? $"{parts[0]} on {parts[1]}"
            : "PostgreSQL";
    }
}
