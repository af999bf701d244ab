using CertFleet.Coordinator.Signing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Rollouts;

public static class RolloutServiceCollectionExtensions
{
    /// <summary>
    /// Signing, planning, running and automatic renewal. Needs TimeProvider, CoordinatorOptions, StateDatabase,
    /// IAgentGateway, IFleetInventory and logging registered by the host.
    /// </summary>
    public static IServiceCollection AddRollouts(this IServiceCollection services)
    {
        services.AddSingleton<ClusterAuthorities>();
        services.AddSingleton<SigningPolicy>();
        services.AddSingleton<RenewalSigner>();
        services.AddSingleton<RolloutStore>();
        services.AddSingleton<RolloutPlanner>();
        services.AddSingleton<RolloutStepExecutor>();
        services.AddSingleton<RolloutRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<RolloutRunner>());
        services.AddSingleton<IRolloutAdmin, RolloutAdmin>();
        services.AddSingleton<AutoRenewal>();
        services.AddHostedService(provider => provider.GetRequiredService<AutoRenewal>());
        return services;
    }
}
