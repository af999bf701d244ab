using CertFleet.Pki.Files;
using CertFleet.Pki.Tests.Files;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>
/// An install crashed (in-process: the fault-point hook throws, nothing after it runs) at every fault point it
/// reaches, each occurrence in turn, on a fresh copy of the node each time: every written file is as before or as
/// after (absent counts, for a file the install creates), and rolling back from the backup, as the agent's recovery
/// does, leaves the node as it was.
/// </summary>
internal static class CrashAtEveryFaultPoint
{
    /// <param name="freshNode">a new copy of the node</param>
    /// <param name="install">the install on the node folder given</param>
    /// <param name="written">the files (relative to the node folder) the install writes</param>
    /// <param name="alsoCheck">more checks on the files as the crash left them (relative path to text, null when absent), at the point named</param>
    /// <returns>the fault points a whole install reaches, in order, for the caller to check</returns>
    public static IReadOnlyList<string> Check(Func<string> freshNode, Action<string> install, IReadOnlyList<string> written,
        Action<string, IReadOnlyDictionary<string, string?>>? alsoCheck = null)
    {
        var reached = new List<string>();
        var clean = freshNode();
        var oldTexts = Texts(clean, written);
        WithHook(reached.Add, () => install(clean));
        var newTexts = Texts(clean, written);

        for (var crashAt = 0; crashAt < reached.Count; crashAt++)
        {
            var point = $"#{crashAt} {reached[crashAt]}";
            var root = freshNode();
            var before = FolderSnapshot.Take(root, excludeUnder: TrustInstallerTests.Backups);
            var count = 0;
            var target = crashAt;

            Assert.Throws<SimulatedCrash>(() => WithHook(name =>
            {
                if (count++ == target)
                {
                    throw new SimulatedCrash(name);
                }
            }, () => install(root)));

            var now = Texts(root, written);
            foreach (var file in written)
            {
                Assert.True(now[file] == oldTexts[file] || now[file] == newTexts[file], $"{point}: {file} is neither as before nor as after");
            }
            alsoCheck?.Invoke(point, now);
            RollBack(root, written);
            var differences = before.Differences(FolderSnapshot.Take(root, excludeUnder: TrustInstallerTests.Backups));
            Assert.True(differences.Count == 0, $"{point}: {string.Join(", ", differences)}");
        }
        return reached;
    }

    private static void WithHook(Action<string> onReached, Action install)
    {
        FaultPoints.OnReached = onReached;
        try
        {
            install();
        }
        finally
        {
            FaultPoints.OnReached = null;
        }
    }

    private static Dictionary<string, string?> Texts(string root, IReadOnlyList<string> written) =>
        written.ToDictionary(f => f, f => File.Exists(Path.Combine(root, f)) ? File.ReadAllText(Path.Combine(root, f)) : null);

    /// <summary>What the agent does after a crash: put every backup back (new files removed), then drop the temporaries.</summary>
    private static void RollBack(string root, IReadOnlyList<string> written)
    {
        var node = new NodeRoot(root);
        var sets = Path.Combine(root, BackupSet.BackupsDirectoryOnNode.TrimStart('/'));
        foreach (var set in Directory.Exists(sets) ? Directory.GetDirectories(sets) : [])
        {
            BackupSet.Open(node, node.ToNodePath(set)).RestoreAll();
        }
        foreach (var folder in written.Select(f => Path.GetDirectoryName(Path.Combine(root, f))!).Distinct())
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
    }
}
