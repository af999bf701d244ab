using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CertFleet.Coordinator.Rollouts;

public static class RolloutServiceCollectionExtensions
{
    /// <summary>
    /// Signing, planning, running and automatic renewal. Needs TimeProvider, CoordinatorOptions, StateDatabase,
    /// IAgentGateway, IFleetInventory and logging registered by the host.
    /// </summary>
    public static IServiceCollection AddRollouts(this IServiceCollection services)
    {
        // the audit trail is shared with enrollment and the admin API; whoever registers it first wins
        services.TryAddSingleton<AuditLog>();
        services.AddSingleton<ClusterAuthorities>();
        services.AddSingleton<IssuerLabels>();
        services.AddSingleton<SigningPolicy>();
        services.AddSingleton<RenewalSigner>();
        services.AddSingleton<RolloutStore>();
        services.AddSingleton<RekeyPlanner>();
        services.AddSingleton<RolloutPlanner>();
        services.AddSingleton<RekeyStepExecutor>();
        services.AddSingleton<RolloutStepExecutor>();
        services.AddSingleton<RolloutRunner>();
        services.AddSingleton<RolloutRollback>();
        services.AddHostedService(provider => provider.GetRequiredService<RolloutRunner>());
        services.AddSingleton<IRolloutAdmin, RolloutAdmin>();
        services.AddSingleton<AutoRenewal>();
        services.AddHostedService(provider => provider.GetRequiredService<AutoRenewal>());
        return services;
    }
}
