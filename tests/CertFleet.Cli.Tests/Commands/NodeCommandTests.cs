using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>`certfleet node remove NAME` against a real coordinator on 127.0.46.8.</summary>
public sealed class NodeCommandTests : IAsyncLifetime
{
    private readonly string _state = ScratchDirectory.Create("node-cmd");
    private WebApplication _coordinator = null!;

    private string Config => Path.Combine(_state, "admin.conf");

    public async Task InitializeAsync()
    {
        _coordinator = CoordinatorHost.Build(new CoordinatorOptions { Listen = "127.0.46.8:7443", StateDirectory = _state });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _coordinator.StartAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _coordinator.StopAsync(timeout.Token);
        await _coordinator.DisposeAsync();
        ScratchDirectory.Delete(_state);
    }

    [Fact]
    public async Task NodeRemove_EnrolledNode_ForgetsItAndSaysHowToBringItBack()
    {
        var nodes = _coordinator.Services.GetRequiredService<NodeStore>();
        nodes.Enroll("worker-1", NodeRole.Worker, "0A1B");

        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "node", "remove", "worker-1"));

        Assert.Equal(0, exitCode);
        Assert.Empty(error);
        Assert.Contains("Node worker-1 removed: its agent identity is revoked", output, StringComparison.Ordinal);
        Assert.Contains("certfleet token create --node worker-1", output, StringComparison.Ordinal);
        Assert.Null(nodes.Find("worker-1"));
    }

    [Fact]
    public async Task NodeRemove_UnknownNode_ExitsOneNamingIt()
    {
        var (exitCode, _, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "node", "remove", "worker-404"));

        Assert.Equal(1, exitCode);
        Assert.Contains("node worker-404 is not enrolled at this coordinator", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeRemove_AdminConfigReadableByOthers_RefusedAndTheNodeStays()
    {
        var nodes = _coordinator.Services.GetRequiredService<NodeStore>();
        nodes.Enroll("worker-2", NodeRole.Worker, "0C");
        File.SetUnixFileMode(Config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        try
        {
            var (exitCode, _, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "node", "remove", "worker-2"));

            Assert.Equal(2, exitCode);
            Assert.Contains($"chmod 600 {Config}", error, StringComparison.Ordinal);
            Assert.NotNull(nodes.Find("worker-2"));
        }
        finally
        {
            File.SetUnixFileMode(Config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
