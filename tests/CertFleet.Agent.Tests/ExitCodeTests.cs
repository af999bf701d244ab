using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Tests.Connection;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests;

/// <summary>
/// The built certfleet-agent under a systemd-like parent (Type=notify: READY=1 on NOTIFY_SOCKET) ends with the code
/// its unit acts on: never 0 on a fault (Restart=on-failure would leave it down), and the codes
/// RestartPreventExitStatus= names exactly for what a restart cannot fix. The coordinator is the stand-in on 127.0.142.1.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private const string Address = "127.0.142.1";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string _scratch = ScratchDirectory.Create("agent-exit");

    private string Root => Path.Combine(_scratch, "root");

    private string State => Path.Combine(_scratch, "state");

    public ExitCodeTests() => Directory.CreateDirectory(Root);

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public void Unit_RestartPreventExitStatus_IsExactlyTheCodesARestartCannotFix()
    {
        Assert.Equal(ExitCodes.RestartCannotFix.Order(), RestartPreventExitStatus("certfleet-agent.service"));
        Assert.DoesNotContain(ExitCodes.Failed, (IReadOnlySet<int>)ExitCodes.RestartCannotFix);
    }

    [Fact]
    public async Task Agent_RootMissingAtStart_ExitsInvalidInputWhichItsUnitDoesNotRestart()
    {
        await using var coordinator = await FakeCoordinator.StartAsync(Address);
        await using var agent = AgentUnderSystemd.Start(_scratch, Arguments(coordinator, root: Path.Combine(_scratch, "gone")));

        var exitCode = await agent.ExitCodeAsync(Limit);

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Contains(exitCode, RestartPreventExitStatus("certfleet-agent.service"));
        Assert.Contains($"certfleet-agent: --root {Path.Combine(_scratch, "gone")}: no such folder", agent.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", agent.StandardOutput + agent.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_RootRemovedAfterStart_ExitsFailedWhichItsUnitRestarts()
    {
        await using var coordinator = await FakeCoordinator.StartAsync(Address);
        await using var agent = AgentUnderSystemd.Start(_scratch, Arguments(coordinator, root: Root));
        await agent.NotifiedAsync("READY=1", Limit);
        await coordinator.NextAsync(AgentMessage.BodyOneofCase.Inventory, Limit);

        Directory.Delete(Root, recursive: true);
        var exitCode = await agent.ExitCodeAsync(Limit);

        // 0 before: the report's PkiException escaped the BackgroundService, which only stops the host
        Assert.Equal(ExitCodes.Failed, exitCode);
        Assert.DoesNotContain(exitCode, RestartPreventExitStatus("certfleet-agent.service"));
        var line = Assert.Single(Lines(agent.StandardError));
        Assert.Equal($"certfleet-agent: {Root}: the root folder does not exist; pass --root an existing folder (default /)", line);
        Assert.DoesNotContain("   at ", agent.StandardOutput, StringComparison.Ordinal); // a missing folder is no bug: no stack trace
    }

    [Fact]
    public async Task Agent_EnrollmentRefused_ExitsWithTheCodeItsUnitDoesNotRestart()
    {
        await using var coordinator = await FakeCoordinator.StartAsync(Address);
        await using var agent = AgentUnderSystemd.Start(_scratch, Arguments(coordinator, root: Root, token: "wrong.token"));
        await agent.NotifiedAsync("READY=1", Limit);

        var exitCode = await agent.ExitCodeAsync(Limit);

        Assert.Equal(ExitCodes.EnrollmentRefused, exitCode);
        Assert.Contains(exitCode, RestartPreventExitStatus("certfleet-agent.service"));
        Assert.Contains("certfleet-agent: enrollment refused", Assert.Single(Lines(agent.StandardError)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_UnexpectedErrorInItsBackgroundService_ExitsFailedWithOneLineAndTheStackTraceInTheLog()
    {
        // a file where the state folder should be: Directory.CreateDirectory throws an IOException nothing catches
        var state = Path.Combine(_scratch, "state-file");
        await File.WriteAllTextAsync(state, "");
        await using var coordinator = await FakeCoordinator.StartAsync(Address);
        await using var agent = AgentUnderSystemd.Start(_scratch, [.. Arguments(coordinator, root: Root), "--state-dir", state]);
        await agent.NotifiedAsync("READY=1", Limit);

        var exitCode = await agent.ExitCodeAsync(Limit);

        Assert.Equal(ExitCodes.Failed, exitCode); // 0 before
        var line = Assert.Single(Lines(agent.StandardError));
        Assert.StartsWith($"certfleet-agent: stopped by an unexpected error: The file '{state}' already exists. (IOException", line, StringComparison.Ordinal);
        Assert.Contains("   at ", agent.StandardOutput, StringComparison.Ordinal); // the journal keeps where it came from
    }

    /// <summary>The exit codes a unit's RestartPreventExitStatus= lines name, in order.</summary>
    internal static IEnumerable<int> RestartPreventExitStatus(string unit) =>
        File.ReadAllLines(Path.Combine(SharedFixtures.RepositoryRoot, "packaging", "systemd", unit))
            .Where(l => l.StartsWith("RestartPreventExitStatus=", StringComparison.Ordinal))
            .SelectMany(l => l["RestartPreventExitStatus=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)
            .Order();

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private List<string> Arguments(FakeCoordinator coordinator, string root, string token = FakeCoordinator.GoodToken) =>
    [
        "--coordinator", coordinator.Url.ToString(), "--node", "worker-1", "--root", root, "--state-dir", State,
        "--token", token, "--ca-hash", "sha256:" + Convert.ToHexStringLower(CoordinatorTrust.SpkiHash(coordinator.Ca)),
        "--report-interval", "1s", "--restart-command", "true", "--health-command", "true", "--config", "/dev/null",
    ];
}
