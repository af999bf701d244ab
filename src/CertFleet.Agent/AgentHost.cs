using CertFleet.Agent.Connection;
using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Gates;
using CertFleet.Agent.Handlers;
using CertFleet.Agent.Memory;
using CertFleet.Agent.Options;
using CertFleet.Agent.Steps;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent;

/// <summary>
/// certfleet-agent as a host: Program.cs runs it, and `certfleet demo` and the end-to-end tests build several in one
/// process, so nothing here is static and everything the host made is disposed with it.
/// </summary>
public static class AgentHost
{
    public static IHost Build(AgentOptions options, Action<IServiceCollection>? configure = null) =>
        Build(options, configure, ownsProcess: false);

    /// <param name="ownsProcess">true for the certfleet-agent process: the agent then gives its idle memory back</param>
    private static IHost Build(AgentOptions options, Action<IServiceCollection>? configure, bool ownsProcess)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The empty builder: no configuration providers (appsettings, environment, command line: the agent reads its own
        // --config file) and only the console logger, which is all the journal gets. The providers and binders the default
        // builder brings were pages of the NativeAOT binary the agent touched at start for nothing (docs/AGENT-MEMORY.md).
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.AddConsole();
        // Type=notify: systemd hears "ready" once the host has started, and the journal gets plain log lines.
        builder.Services.AddSystemd();
        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AgentExit>();
        services.AddSingleton(s => new IdleMemory(ownsProcess, s.GetRequiredService<ILogger<IdleMemory>>()));
        services.AddSingleton(_ => new StepJournal(options.StateDirectory));
        services.AddSingleton(s => new InstallTransaction(options.StateDirectory, s.GetRequiredService<StepJournal>()));
        services.AddSingleton<InstallRecovery>();
        services.AddSingleton<Enroller>();
        services.AddSingleton<NodeAccess>();
        services.AddSingleton<InventoryHandler>();
        services.AddSingleton<CsrHandler>();
        services.AddSingleton<InstallHandler>();
        services.AddSingleton<RekeyHandler>();
        services.AddSingleton<GateKeys>();
        services.AddSingleton<GateHandler>();
        services.AddSingleton<RestartHandler>();
        services.AddSingleton<RollbackHandler>();
        services.AddSingleton<VerifyHandler>();
        services.AddSingleton<ServiceRestarter>();
        services.AddSingleton<HealthGate>();
        services.AddSingleton<UnitRestart>();
        services.AddSingleton<MessageDispatcher>();
        // before the connection: an install the agent died in is finished or undone before the coordinator hears from it
        services.AddHostedService(s => s.GetRequiredService<InstallRecovery>());
        services.AddHostedService<AgentConnection>();
        configure?.Invoke(services);
        return builder.Build();
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = AgentOptionsParser.Parse(args);
        if (parsed.HelpRequested)
        {
            Console.WriteLine(AgentOptionsParser.Usage);
            return ExitCodes.Success;
        }
        if (parsed.Options is not { } options)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"certfleet-agent: {error}");
            }
            Console.Error.WriteLine(AgentOptionsParser.Usage);
            return ExitCodes.InvalidInput;
        }
        using var host = Build(options, configure: null, ownsProcess: true);
        var exit = host.Services.GetRequiredService<AgentExit>(); // before RunAsync, which disposes the services
        // a BackgroundService that throws only stops the host, which then ends as if asked to (exit 0 on .NET 10), and
        // Restart=on-failure would leave the agent down: its task is looked at after the host stopped
        var background = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
        try
        {
            await host.RunAsync();
        }
        catch (Exception e)
        {
            // a hosted service failed to start; the host logged it with its stack trace
            exit.Fail(ExitCodes.Failed, Unexpected(e));
        }
        var fault = background.Select(s => s.ExecuteTask?.Exception?.InnerException).FirstOrDefault(e => e is not null);
        if (exit.Code == ExitCodes.Success && fault is not null)
        {
            exit.Fail(ExitCodes.Failed, Unexpected(fault));
        }
        if (exit.Reason is { } reason)
        {
            Console.Error.WriteLine($"certfleet-agent: {reason}");
        }
        return exit.Code;
    }

    /// <summary>One line for stderr; the stack trace is in the log, where the host wrote it.</summary>
    private static string Unexpected(Exception e) =>
        $"stopped by an unexpected error: {string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))} "
        + $"({e.GetType().Name}; the log has its stack trace)";
}
