using CertFleet.Coordinator.Audit;
using System.Net;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Group;
using CertFleet.Coordinator.Api;
using CertFleet.Coordinator.Identity;
using CertFleet.Coordinator.Metrics;
using CertFleet.Coordinator.Notifications;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Transfer;
using CertFleet.Pki;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// Builds and runs certfleet-coordinator. No static state: the demo and end-to-end tests build several in one process.
/// </summary>
public static partial class CoordinatorHost
{
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>
    /// A ready-to-run coordinator. Creates the state dir, the fleet CA and admin.conf on first start (so they exist
    /// when this returns). <paramref name="configure"/> runs last: tests replace TimeProvider or add fakes there.
    /// Throws <see cref="CoordinatorOptionsException"/> listing every problem with the options.
    /// </summary>
    public static WebApplication Build(CoordinatorOptions options, Action<IServiceCollection>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = CoordinatorOptionsCheck.Problems(options);
        if (problems.Count > 0)
        {
            throw new CoordinatorOptionsException(problems);
        }
        var listen = ListenAddress.TryParse(options.Listen, "--listen", out _)!;
        var metrics = options.MetricsListen is null ? null : ListenAddress.TryParse(options.MetricsListen, "--metrics-listen", out _);
        // resolved now so a name that does not resolve stops Build with a message, not the server start with a trace
        var grpcEndpoints = Endpoints(listen, "--listen");
        var metricsEndpoints = metrics is null ? [] : Endpoints(metrics, "--metrics-listen");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "certfleet-coordinator",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelHttpsConfiguration();
        // one line per request and per dropped agent stream drowns what operators need; our own events say enough
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Services.AddSystemd();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxMessageBytes;
            grpc.MaxSendMessageSize = MaxMessageBytes;
            // a standby of a coordinator group answers reads only (Group/StandbyInterceptor)
            grpc.Interceptors.Add<StandbyInterceptor>();
        });
        AddCoordinator(builder.Services, options);
        builder.Services.AddRollouts();
        builder.Services.AddNotifications();
        configure?.Invoke(builder.Services);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var authority = kestrel.ApplicationServices.GetRequiredService<FleetAuthority>();
            foreach (var endpoint in grpcEndpoints)
            {
                kestrel.Listen(endpoint, listenOptions =>
                {
                    listenOptions.Protocols = HttpProtocols.Http2;
                    listenOptions.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificateSelector = (_, _) => authority.ServerCertificate,
                        // Enroll comes without a client certificate; everything else is authorised per call
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                        ClientCertificateValidation = (certificate, _, _) => authority.Trusts(certificate),
                        CheckCertificateRevocation = false,
                    });
                });
            }
            foreach (var endpoint in metricsEndpoints)
            {
                kestrel.Listen(endpoint, listenOptions => listenOptions.Protocols = HttpProtocols.Http1);
            }
        });

        var app = builder.Build();
        // made now, not on first request: admin.conf must exist when Build returns, and a damaged state dir must stop the start
        var fleetAuthority = app.Services.GetRequiredService<FleetAuthority>();
        app.Services.GetRequiredService<TokenStore>();
        app.Services.GetRequiredService<NodeStore>();
        JoinGroup(app.Services);
        var grpcHost = $"*:{listen.Port}";
        app.MapGrpcService<AgentGrpcService>().RequireHost(grpcHost);
        app.MapGrpcService<AdminGrpcService>().RequireHost(grpcHost);
        if (metrics is not null)
        {
            // a plain RequestDelegate, not a delegate with parameters to bind: that binding needs reflection, which
            // the native `certfleet` binary (its demo hosts this coordinator) does not have
            var fleetMetrics = app.Services.GetRequiredService<FleetMetrics>();
            app.MapGet("/metrics", async context =>
            {
                // the classic text format, which every Prometheus reads
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await fleetMetrics.ExportAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            }).RequireHost($"*:{metrics.Port}");
        }
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CertFleet.Coordinator");
        app.Lifetime.ApplicationStarted.Register(() =>
            Log.Started(logger, fleetAuthority.CoordinatorUrl, listen.ToString(), options.StateDirectory, options.ClusterAuthorities.Count, fleetAuthority.CaHash));
        return app;
    }

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <param name="configure">tests add a failing service here, as <see cref="Build"/>'s</param>
    internal static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error,
        Action<IServiceCollection>? configure = null)
    {
        if (args.Count > 0 && args[0] == MigrateStateCommandLine.Verb)
        {
            return await MigrateStateCommand.RunAsync(args.Skip(1).ToList(), output, error, Environment.GetEnvironmentVariable, TimeProvider.System).ConfigureAwait(false);
        }
        var commandLine = CoordinatorCommandLine.Parse(args);
        if (commandLine.HelpRequested)
        {
            await output.WriteLineAsync(CoordinatorCommandLine.Usage).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        if (commandLine.Options is null)
        {
            foreach (var problem in commandLine.Problems)
            {
                await error.WriteLineAsync($"certfleet-coordinator: {problem}").ConfigureAwait(false);
            }
            await error.WriteLineAsync("Run 'certfleet-coordinator --help' for usage.").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        if (StateDatabase.MissingLibrary() is { } missing)
        {
            // exit 2, like a bad option: systemd does not restart it (RestartPreventExitStatus=2) until it is fixed
            await error.WriteLineAsync($"certfleet-coordinator: {missing}, and the coordinator keeps its state in SQLite; "
                + "install the package (it puts both in /usr/lib/certfleet) or copy libe_sqlite3.so next to the binary").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        if (commandLine.Options.Database is null && MovedState.Refusal(commandLine.Options.StateDirectory) is { } moved)
        {
            // before anything is made in the state dir; exit 2, so systemd does not start it again and again
            await error.WriteLineAsync($"certfleet-coordinator: {moved}").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        WebApplication app;
        try
        {
            app = Build(commandLine.Options, configure);
        }
        catch (Exception e) when (e is PkiException or CoordinatorOptionsException or StateSchemaException)
        {
            await error.WriteLineAsync($"certfleet-coordinator: {e.Message}").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException && commandLine.Options.Database is { } database)
        {
            // exit 1: systemd starts it again (Restart=on-failure), and the database may be back by then
            await error.WriteLineAsync($"certfleet-coordinator: the state database {database} cannot be used: {string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}; "
                + "check that PostgreSQL runs and is reachable, and that --database's user, its password and pg_hba.conf let this "
                + "coordinator in").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (Exception e)
        {
            // nothing expected it (the database could not be opened, ...): there is no host to log it yet
            using (var loggers = LoggerFactory.Create(logging => logging.AddConsole()))
            {
                Log.CouldNotStart(loggers.CreateLogger("CertFleet.Coordinator"), e);
            }
            await error.WriteLineAsync($"certfleet-coordinator: {UnexpectedFailure.Describe(e)}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        await using (app.ConfigureAwait(false))
        {
            // a BackgroundService that throws only stops the host, which then ends as if asked to: its task is looked at after
            var background = app.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
            try
            {
                await app.RunAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                // the address is in use, or not an address of this machine
                await error.WriteLineAsync($"certfleet-coordinator: cannot listen on {commandLine.Options.Listen}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Failed;
            }
            catch (Exception e)
            {
                // a hosted service failed to start; the host logged it with its stack trace
                await error.WriteLineAsync($"certfleet-coordinator: {UnexpectedFailure.Describe(e)}").ConfigureAwait(false);
                return ExitCodes.Failed;
            }
            if (UnexpectedFailure.Of(background) is { } fault)
            {
                await error.WriteLineAsync($"certfleet-coordinator: {UnexpectedFailure.Describe(fault)}").ConfigureAwait(false);
                return ExitCodes.Failed;
            }
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// Records this coordinator in its group and tries for the lease at once, so a lone coordinator (SQLite, or the
    /// first of a group) is active when Build returns; a standby's lease rounds go on in <see cref="CoordinatorGroupService"/>.
    /// </summary>
    private static void JoinGroup(IServiceProvider services)
    {
        var lease = services.GetRequiredService<CoordinatorLease>();
        var runner = services.GetRequiredService<RolloutRunner>();
        var sessions = services.GetRequiredService<AgentSessions>();
        var authorities = services.GetRequiredService<Signing.ClusterAuthorities>();
        // first the CA certificates the one before may have renewed, then the rollouts it left running
        lease.BecameActive += authorities.Refresh;
        lease.BecameActive += runner.Wake;
        // the agents' streams go with the lease: each reconnects, and finds the active coordinator
        lease.SteppedDown += () => sessions.DisconnectAll("this coordinator stepped down to standby");
        // at once when asked to stop, before the agents' streams are waited for: a standby takes over at its next round
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(lease.Resign);
        services.GetRequiredService<CoordinatorMembers>().Record(services.GetRequiredService<TimeProvider>().GetUtcNow());
        lease.Round(atStart: true);
    }

    private static void AddCoordinator(IServiceCollection services, CoordinatorOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(provider =>
        {
            // the database lives in the state dir, which the fleet authority creates with mode 0700
            var authority = provider.GetRequiredService<FleetAuthority>();
            var database = StateDatabases.Open(options);
            foreach (var step in database.Migrated)
            {
                Log.SchemaMigrated(provider.GetRequiredService<ILoggerFactory>().CreateLogger("CertFleet.Coordinator"), database.Path, step.Version, step.Name);
            }
            FleetCaAgreement.Check(database, authority.CaHash, options.StateDirectory);
            return database;
        });
        services.AddSingleton(provider => new CoordinatorLease(provider.GetRequiredService<StateDatabase>(),
            provider.GetRequiredService<FleetAuthority>().CoordinatorUrl, options.LeaseDuration, provider.GetRequiredService<ILogger<CoordinatorLease>>()));
        services.AddSingleton<CoordinatorMembers>();
        services.AddSingleton<StandbyInterceptor>();
        services.AddHostedService<CoordinatorGroupService>();
        services.AddSingleton<FleetAuthority>();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<NodeStore>();
        // the trail every area writes to: enrollment, node removal, signing, rollouts
        services.TryAddSingleton<AuditLog>();
        services.AddSingleton<EnrollmentService>();
        services.AddSingleton<EnrollmentThrottle>();
        services.AddSingleton<AgentSessions>();
        services.AddSingleton<NodeRemoval>();
        services.AddSingleton<IAgentGateway>(provider => provider.GetRequiredService<AgentSessions>());
        services.AddSingleton<IFleetInventory, FleetInventory>();
        services.AddSingleton<FleetMetrics>();
        services.AddSingleton<Api.PlanPages>();
    }

    private static IReadOnlyList<IPEndPoint> Endpoints(ListenAddress address, string option)
    {
        if (IPAddress.TryParse(address.Host, out var ip))
        {
            return [new IPEndPoint(ip, address.Port)];
        }
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [new IPEndPoint(IPAddress.Loopback, address.Port), new IPEndPoint(IPAddress.IPv6Loopback, address.Port)];
        }
        try
        {
            return Dns.GetHostAddresses(address.Host).Select(a => new IPEndPoint(a, address.Port)).ToList();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new CoordinatorOptionsException([$"{option} {address}: the host name does not resolve ({e.Message}); give an IP address or a name of this machine"]);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "certfleet-coordinator started at {Url} (listening on {Listen}), state dir {StateDirectory}, {CaCount} cluster CA(s), fleet CA {CaHash}")]
        public static partial void Started(ILogger logger, string url, string listen, string stateDirectory, int caCount, string caHash);

        [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "certfleet-coordinator could not start")]
        public static partial void CouldNotStart(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Path}: schema now at version {Version} ({Step})")]
        public static partial void SchemaMigrated(ILogger logger, string path, int version, string step);
    }
}
