using CertFleet.Coordinator.Rollouts;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// One real coordinator on 127.0.216.1 whose rollouts are <see cref="RekeyRollouts"/>, shared by the re-key command
/// tests (one collection, so one at a time): each test starts from no request and no refusal.
/// </summary>
public sealed class RekeyCoordinator : IAsyncLifetime
{
    public const string Collection = "rekey coordinator";

    private ScriptedCoordinator _coordinator = null!;

    internal RekeyRollouts Rollouts { get; } = new();

    public string Config => _coordinator.Config;

    public async Task InitializeAsync() =>
        _coordinator = await ScriptedCoordinator.StartAsync("127.0.216.1:7443", "rekey-cmd",
            services => services.AddSingleton<IRolloutAdmin>(Rollouts));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    /// <summary>No request seen, no refusal set: what every test starts from.</summary>
    public void Reset()
    {
        Rollouts.Requests.Clear();
        Rollouts.Refusal = null;
    }

    /// <summary>`certfleet --config (this coordinator) ARGS...` on a thread of its own, as the fleet tests run it.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) =>
        Task.Run(() => CliRun.Invoke(["--config", Config, .. args]));
}

[CollectionDefinition(RekeyCoordinator.Collection)]
public sealed class RekeyCoordinatorCollection : ICollectionFixture<RekeyCoordinator>;
