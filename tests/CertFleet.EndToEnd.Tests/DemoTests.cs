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

    [Fact]
    public void Demo_CloneBuildOutput_RenewsTheSandboxWithItsOwnProcessesAndLeavesNothingBehind()
    {
        var run = ProcessRunner.Run("dotnet", [Programs.Dll("certfleet"), "demo"], timeout: TimeSpan.FromMinutes(10),
            environment: new Dictionary<string, string> { ["TMPDIR"] = _temp });

        Assert.True(run.ExitCode == 0, run.Combined);
        Assert.Contains($"Started certfleet-coordinator ({Programs.Dll("certfleet-coordinator")}) on 127.0.40.1:", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Started 6 agents (", run.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"Rollout r-\S+ completed: every step succeeded\."), run.StandardOutput);
        Assert.Equal(6, Regex.Matches(run.StandardOutput, @"^(master|worker)-\d +\S+ +connected .* \d+d +ok$", RegexOptions.Multiline).Count);
        Assert.Contains("etcd is healthy", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Cleaned up: stopped the coordinator, the agents and etcd", run.StandardOutput, StringComparison.Ordinal);
        // nothing left: no sandbox, and no coordinator, agent or etcd still running from it (etcd has its paths in its environment)
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
