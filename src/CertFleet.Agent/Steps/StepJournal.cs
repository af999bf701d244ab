using System.Text;
using System.Text.Json;
using CertFleet.Pki;
using CertFleet.Pki.Files;

namespace CertFleet.Agent.Steps;

/// <summary>
/// journal.json in the state folder: the steps this agent finished, newest last, rewritten atomically after each.
/// It answers a step sent again without doing it twice, finds an install's backup after a restart, and tells the
/// coordinator in Hello what happened while it was away.
/// </summary>
internal sealed class StepJournal(string stateDirectory)
{
    private const int MaxEntries = 500;
    private readonly Lock _gate = new();

    public string FilePath => Path.Combine(stateDirectory, "journal.json");

    public JournalEntry? Find(string stepId)
    {
        lock (_gate)
        {
            return ReadAll().LastOrDefault(e => e.StepId == stepId);
        }
    }

    /// <summary>
    /// Whether a step missing from the journal never ran here: true until the journal is full and starts forgetting its
    /// oldest steps (an install journals itself before it changes anything, so a step absent from a journal that has
    /// forgotten nothing changed nothing).
    /// </summary>
    public bool RemembersEveryStep()
    {
        lock (_gate)
        {
            return ReadAll().Count < MaxEntries;
        }
    }

    public IReadOnlyList<JournalEntry> Recent(int count)
    {
        lock (_gate)
        {
            var all = ReadAll();
            return all.Skip(Math.Max(0, all.Count - count)).ToList();
        }
    }

    public void Record(JournalEntry entry)
    {
        lock (_gate)
        {
            var all = ReadAll();
            all.RemoveAll(e => e.StepId == entry.StepId);
            all.Add(entry);
            if (all.Count > MaxEntries)
            {
                all.RemoveRange(0, all.Count - MaxEntries);
            }
            Directory.CreateDirectory(stateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            AtomicFile.Replace(FilePath, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(all, StepsJsonContext.Default.ListJournalEntry)));
        }
    }

    private List<JournalEntry> ReadAll()
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(FilePath), StepsJsonContext.Default.ListJournalEntry) ?? [];
        }
        catch (JsonException e)
        {
            throw new PkiException($"{FilePath}: the step journal is damaged ({e.Message}); move it aside to start a new one (rollbacks of earlier installs then need the backup folder by hand)", e);
        }
    }
}
