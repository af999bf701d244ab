using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// A real coordinator in this process, on a loopback address of the test class's own, whose rollouts (and, where a test
/// gives them, nodes) are scripted services: the CLI talks to it over real mTLS with the admin.conf it wrote, and what
/// the CLI prints of those answers is what the test checks.
/// </summary>
internal sealed class ScriptedCoordinator : IAsyncDisposable
{
    private readonly string _state;
    private readonly WebApplication _app;

    private ScriptedCoordinator(string state, WebApplication app)
    {
        _state = state;
        _app = app;
    }

    /// <summary>The admin credential the coordinator wrote, for `certfleet --config`.</summary>
    public string Config => Path.Combine(_state, "admin.conf");

    public static async Task<ScriptedCoordinator> StartAsync(string listen, string name, Action<IServiceCollection> scripted)
    {
        var state = ScratchDirectory.Create(name);
        var app = CoordinatorHost.Build(new CoordinatorOptions { Listen = listen, StateDirectory = state }, scripted);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        return new ScriptedCoordinator(state, app);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools(); // the state's database files, so that the folder goes
        ScratchDirectory.Delete(_state);
    }
}
