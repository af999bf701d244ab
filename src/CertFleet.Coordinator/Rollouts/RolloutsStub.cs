// replaced by the rollouts branch
namespace CertFleet.Coordinator.Rollouts;

public static class RolloutServiceCollectionExtensions
{
    public static IServiceCollection AddRollouts(this IServiceCollection s) => s;
}
