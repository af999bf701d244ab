using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>
/// certfleet-coordinator ends with the code its unit acts on: 2 (not restarted) for what the operator must fix,
/// 1 (restarted) for a failure, never 0 on one, with one line on stderr and no stack trace there.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly string _scratch = ScratchDirectory.Create("coordinator-exit");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public void Unit_RestartPreventExitStatus_IsExactlyTheCodesARestartCannotFix()
    {
        var unit = File.ReadAllLines(Path.Combine(SharedFixtures.RepositoryRoot, "packaging", "systemd", "certfleet-coordinator.service"));

        var codes = unit.Where(l => l.StartsWith("RestartPreventExitStatus=", StringComparison.Ordinal))
            .SelectMany(l => l["RestartPreventExitStatus=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse);

        Assert.Equal(ExitCodes.RestartCannotFix.Order(), codes.Order());
        Assert.DoesNotContain(ExitCodes.Failed, (IReadOnlySet<int>)ExitCodes.RestartCannotFix);
    }

    [Fact]
    public void Coordinator_BadOptions_ExitsInvalidInputWithOneLineEachAndStartsNothing()
    {
        var state = Path.Combine(_scratch, "state");

        var run = Coordinator("--listen", "bogus", "--state-dir", state, "--auto-renew-within", "soon");

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains(ExitCodes.InvalidInput, (IReadOnlySet<int>)ExitCodes.RestartCannotFix);
        Assert.Contains("certfleet-coordinator: --listen 'bogus' is not HOST:PORT", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Combined, StringComparison.Ordinal);
        Assert.False(Directory.Exists(state));
    }

    [Fact]
    public void Coordinator_StateDatabaseCannotBeOpened_ExitsFailedWithOneLineAndTheStackTraceInTheLog()
    {
        // a folder where the database file goes: SQLite cannot open it, which nothing in the coordinator expects
        var state = Path.Combine(_scratch, "state");
        Directory.CreateDirectory(Path.Combine(state, "state.db"));

        var run = Coordinator("--listen", "127.0.143.1:7443", "--state-dir", state);

        // 134 before: the runtime aborted with the stack trace on stderr
        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        var line = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("certfleet-coordinator: stopped by an unexpected error: SQLite Error 14", line, StringComparison.Ordinal);
        Assert.Contains("   at ", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BackgroundServiceThrows_ExitsFailedNotZero()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await CoordinatorHost.RunAsync(
            ["--listen", "127.0.143.2:7443", "--state-dir", Path.Combine(_scratch, "state"), "--config", "/dev/null"], output, error,
            services => services.AddHostedService<Throwing>()).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ExitCodes.Failed, exitCode); // 0 before: the host stopped as if asked to
        Assert.Equal("certfleet-coordinator: stopped by an unexpected error: the rollout table is gone (InvalidOperationException; the log has its stack trace)",
            error.ToString().Trim());
    }

    private static ProcessResult Coordinator(params string[] args) =>
        ProcessRunner.Run("dotnet", [Programs.Dll("certfleet-coordinator"), .. args, "--config", "/dev/null"], timeout: TimeSpan.FromMinutes(1));

    private sealed class Throwing : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken);
            throw new InvalidOperationException("the rollout table is gone");
        }
    }
}
