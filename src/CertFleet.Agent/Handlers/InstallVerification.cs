using CertFleet.Agent.Steps;
using CertFleet.Pki.Files;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Verification;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// The last stage of every install-like step (a renewal's install, a re-key's phase): the node scanned again and
/// verified locally; anything the step made worse puts the whole backup back, so a step leaves the node better or as it was.
/// </summary>
internal static class InstallVerification
{
    /// <param name="failed">the step's journal entry as a failure, to fill in</param>
    /// <param name="what">the step in words, for the failure ("the install")</param>
    /// <param name="done">what it did, for the success ("installed 3 certificate(s) into 5 file(s)")</param>
    public static JournalEntry Check(NodeAccess node, IReadOnlyList<VerificationProblem> before, InstallResult result, JournalEntry failed,
        string what, string done, IReadOnlyList<string> units, TimeProvider time)
    {
        using var after = node.Scan();
        var problems = NewProblems.Since(before, after, time);
        if (problems.Count > 0)
        {
            BackupSet.Open(node.Root, result.BackupDirectory!).RestoreAll();
            return failed with
            {
                Message = $"{what} failed local verification and was rolled back from {result.BackupDirectory}: {NewProblems.Describe(problems)}",
                BackupDirectory = result.BackupDirectory,
            };
        }
        return failed with
        {
            Ok = true,
            Message = $"{done}; backup in {result.BackupDirectory}",
            BackupDirectory = result.BackupDirectory,
            ChangedFiles = result.ChangedFiles,
            Units = units,
        };
    }
}
