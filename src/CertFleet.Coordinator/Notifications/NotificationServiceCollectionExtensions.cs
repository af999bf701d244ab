using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Notifications;

internal static class NotificationServiceCollectionExtensions
{
    /// <summary>The webhook and Alertmanager push (`notify-webhook`, `notify-alertmanager`); idle when neither is set.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddSingleton<FleetSnapshots>();
        services.AddHostedService<Notifier>();
        return services;
    }
}
