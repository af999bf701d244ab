using System.Text.RegularExpressions;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// `certfleet demo` as the README's quick start runs it from a clone: the CLI's build output runs the coordinator's
/// and the agent's build outputs as processes of their own (sandbox on 127.0.40.x and 127.0.41.x). In the loopback
/// collection: one fleet at a time on the two cores.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class DemoTests : IDisposable
{
    private readonly string _temp = ScratchDirectory.Create("demo-tmp");

    public void Dispose() => ScratchDirectory.Delete(_temp);

    /// <summary>
    /// `certfleet demo --rekey-ca` is the whole demo and then its re-key chapter, so one run checks both (a demo from
    /// the build output is a minute and more of the test run's 2 cores): the sandbox renewed by the build output's own
    /// processes, then every CA rotated, then nothing left behind.
    /// </summary>
    [Fact]
    public void Demo_RekeyCa_FromTheCloneBuildOutput_RenewsTheSandboxThenRotatesEveryCaAndLeavesNothingBehind()
    {
        var run = ProcessRunner.Run("dotnet", [Programs.Dll("certfleet"), "demo", "--rekey-ca"], timeout: TimeSpan.FromMinutes(10),
            environment: new Dictionary<string, string> { ["TMPDIR"] = _temp });

        Assert.True(run.ExitCode == 0, run.Combined);
        var chapterAt = run.StandardOutput.IndexOf("== A new key for every cluster CA", StringComparison.Ordinal);
        Assert.True(chapterAt >= 0, $"no re-key chapter in the demo's output:\n{run.StandardOutput}");
        var renewal = run.StandardOutput[..chapterAt];
        Assert.Contains($"Started certfleet-coordinator ({Programs.Dll("certfleet-coordinator")}) on 127.0.40.1:", renewal, StringComparison.Ordinal);
        Assert.Contains("Started 6 agents (", renewal, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"Rollout r-\S+ completed: every step succeeded\."), renewal);
        Assert.Equal(6, Regex.Matches(renewal, @"^(master|worker)-\d +\S+ +connected .* \d+d +ok$", RegexOptions.Multiline).Count);
        Assert.Contains("etcd is healthy", renewal, StringComparison.Ordinal);

        var chapter = run.StandardOutput[chapterAt..];
        Assert.Contains("Plan: ", chapter, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"Rollout r-\S+ completed: every step succeeded\."), chapter);
        // both CAs the coordinator holds, each with a key id and serial before and after, the new ones different
        foreach (var ca in new[] { "kubernetes", "front-proxy-ca" })
        {
            var row = Regex.Match(chapter, $@"^{ca} +([0-9a-f]{{8}}) +([0-9A-F]+) +([0-9a-f]{{8}}) +([0-9A-F]+)$", RegexOptions.Multiline);
            Assert.True(row.Success, $"no old/new row for the {ca} CA in:\n{chapter}");
            Assert.NotEqual(row.Groups[1].Value, row.Groups[3].Value);
            Assert.NotEqual(row.Groups[2].Value, row.Groups[4].Value);
        }
        Assert.Equal(6, Regex.Matches(chapter,
            @"^(master|worker)-\d +\d+ leaves: each verifies against its new CA and not the old one, with the key it had; no file holds an old CA$",
            RegexOptions.Multiline).Count);
        Assert.Contains("etcd is healthy under the new CA", chapter, StringComparison.Ordinal);
        Assert.Contains("then every cluster CA given a new key", chapter, StringComparison.Ordinal);
        Assert.Contains("Cleaned up: stopped the coordinator, the agents and etcd", run.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_temp));
        Assert.Empty(ProcessesMentioning(_temp));
    }

    private static List<string> ProcessesMentioning(string text) =>
        Directory.GetDirectories("/proc")
            .Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Select(d =>
            {
                try
                {
                    return (File.ReadAllText(Path.Combine(d, "cmdline")) + File.ReadAllText(Path.Combine(d, "environ"))).Replace('\0', ' ');
                }
                catch (IOException)
                {
                    return "";
                }
                catch (UnauthorizedAccessException)
                {
                    return "";
                }
            })
            .Where(cmdline => cmdline.Contains(text, StringComparison.Ordinal))
            .ToList();
}
