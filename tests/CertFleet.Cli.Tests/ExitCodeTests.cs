using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests;

/// <summary>
/// The built `certfleet` program, run as a script runs it, ends with the code <see cref="ExitCodes"/> names for each
/// kind of failure, with one line on stderr and never a stack trace.
/// </summary>
public sealed class ExitCodeTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IAsyncLifetime
{
    private readonly string _state = ScratchDirectory.Create("exit-codes");

    /// <summary>admin.conf of a coordinator at 127.0.141.3:7443 that was set up but never started: nothing listens there.</summary>
    private string Unreachable => Path.Combine(_state, "admin.conf");

    public async Task InitializeAsync() =>
        await CoordinatorHost.Build(new CoordinatorOptions { Listen = "127.0.141.3:7443", StateDirectory = _state }).DisposeAsync();

    public Task DisposeAsync()
    {
        ScratchDirectory.Delete(_state);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("renew", "--local", "--batch", "2")]
    [InlineData("check-expiration", "--root", "/nonexistent/certfleet-root")]
    [InlineData("plan", "--expiring-within", "soon")]
    public void Certfleet_BadInput_ExitsInvalidInputWithoutAStackTrace(params string[] args)
    {
        var run = CliRun.Process(null, ["--config", Unreachable, .. args]);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.StartsWith("certfleet: ", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Combined, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("renew", "--all", "--dry-run")]
    [InlineData("verify")]
    public void Certfleet_CoordinatorUnreachable_ExitsUnavailableNamingTheConfig(params string[] args)
    {
        var run = CliRun.Process(null, ["--config", Unreachable, .. args]);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Contains($"cannot reach the coordinator named in {Unreachable}", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public void Certfleet_StdoutClosed_ExitsFailedWithOneLineInsteadOfACrash()
    {
        // a failure no command expects (here: writing its table to a closed stdout) used to abort the runtime (exit 134) with a stack trace
        var run = ProcessRunner.Run("sh", ["-c", "exec \"$@\" >&-", "sh", "dotnet", Programs.Dll("certfleet"),
            "check-expiration", "--root", pki.NodeRoot("worker-1")], timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        var line = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("certfleet: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
    }
}
