using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class RolloutServiceCollectionExtensionsTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task AddRollouts_WithTheHostsServices_AdminWorksAndTheRunnerIsHostedOnce()
    {
        using var bed = FleetTestbed.Create(fixture);
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(bed.Time)
            .AddSingleton(bed.Options)
            .AddSingleton(new StateDatabase(bed.Options.StateDirectory))
            .AddSingleton<IAgentGateway>(bed.Gateway)
            .AddSingleton<IFleetInventory>(bed.Inventory)
            .AddRollouts();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var plan = await provider.GetRequiredService<IRolloutAdmin>().PlanAsync(new Protocol.V1.RolloutRequest { All = true }, CancellationToken.None);
        var hosted = provider.GetServices<IHostedService>().ToList();

        Assert.NotEmpty(plan.Steps);
        Assert.Same(provider.GetRequiredService<RolloutRunner>(), Assert.Single(hosted.OfType<RolloutRunner>()));
        Assert.Single(hosted.OfType<AutoRenewal>());
    }
}
