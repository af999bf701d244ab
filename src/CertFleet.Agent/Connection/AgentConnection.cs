using System.Reflection;
using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Handlers;
using CertFleet.Agent.Memory;
using CertFleet.Agent.Options;
using CertFleet.Agent.Steps;
using CertFleet.Pki;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Connection;

/// <summary>
/// The agent's life: identity first (enrolling once), then one Connect stream at a time: Hello, an inventory report,
/// then the coordinator's requests served one by one in order, with heartbeats and periodic reports alongside.
/// A broken or refused stream is reopened on the next coordinator of the group (<see cref="CoordinatorGroup"/>), with
/// backoff once every one has failed; a refused enrollment stops the agent. The identity renews itself over
/// the mTLS channel when a third of its life is left; the stream is then reopened with the new one.
/// </summary>
internal sealed partial class AgentConnection(
    AgentOptions options,
    Enroller enroller,
    MessageDispatcher dispatcher,
    InventoryHandler inventory,
    StepJournal journal,
    IdleMemory idleMemory,
    AgentExit exit,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<AgentConnection> logger) : BackgroundService
{
    private const int RecentStepsInHello = 20;

    private static readonly string Version =
        typeof(AgentConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        AgentIdentity identity;
        try
        {
            identity = await enroller.EnsureIdentityAsync(stoppingToken);
        }
        catch (Exception e) when (e is EnrollmentRejectedException or PkiException)
        {
            Log.Stopping(logger, e.Message);
            exit.Fail(ExitCodes.EnrollmentRefused, e.Message);
            lifetime.StopApplication();
            return;
        }
        var group = new CoordinatorGroup(options.Coordinators);
        Uri? connectedTo = null;
        try
        {
            for (var attempt = 0; !stoppingToken.IsCancellationRequested;)
            {
                if (identity.Certificate.NotAfter.ToUniversalTime() < time.GetUtcNow().UtcDateTime)
                {
                    // nothing can renew it now: the coordinator accepts only a valid identity (or a token)
                    var reason = $"the agent identity in {options.StateDirectory} expired at {identity.Certificate.NotAfter.ToUniversalTime():u} "
                        + $"(the coordinator was unreachable while it could be renewed); enroll again: `certfleet token create --node {options.Node}`, "
                        + "then start the agent once with --token T --ca-hash H";
                    Log.Stopping(logger, reason);
                    exit.Fail(ExitCodes.EnrollmentRefused, reason);
                    lifetime.StopApplication();
                    return;
                }
                var coordinator = group.Current;
                Exception? failure = null;
                try
                {
                    var renewed = await SessionAsync(identity, coordinator, () =>
                    {
                        attempt = 0;
                        group.Succeeded();
                        if (connectedTo is not null && !Options.CoordinatorUrls.SameCoordinator(connectedTo, coordinator))
                        {
                            Log.Switched(logger, coordinator, connectedTo);
                        }
                        connectedTo = coordinator;
                    }, stoppingToken);
                    if (renewed)
                    {
                        identity.Dispose();
                        identity = enroller.Reload();
                        attempt = 0; // reconnect at once with the new identity
                        continue;
                    }
                    Log.Disconnected(logger, coordinator, "the coordinator closed the stream");
                }
                catch (Exception e) when (e is OperationCanceledException or RpcException && stoppingToken.IsCancellationRequested)
                {
                    return; // stopping: the stream was cancelled on purpose
                }
                catch (Exception e) when (e is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
                {
                    failure = e;
                    Log.Disconnected(logger, coordinator, e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message);
                }
                catch (PkiException e)
                {
                    // the node's files cannot be scanned (its --root folder went away) or the renewed identity cannot be
                    // read: reconnecting cannot fix either, and an agent that reports nothing must not look alive.
                    // Failed, not 0: systemd restarts it, and the restart says what is wrong at its start
                    Log.Stopping(logger, e.Message);
                    exit.Fail(ExitCodes.Failed, e.Message);
                    lifetime.StopApplication();
                    return;
                }
                // unreachable, a standby's refusal or a dropped stream: the next of the group at once (the active one
                // first when the refusal named it), and a pause only when every one has failed
                if (!group.Failed(failure))
                {
                    Log.TryingNext(logger, group.Current);
                    continue;
                }
                var delay = ReconnectBackoff.Delay(attempt++, Random.Shared);
                Log.Reconnecting(logger, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            identity.Dispose();
        }
    }

    /// <summary>Serves one Connect stream with <paramref name="coordinator"/>; true when it ended because the identity was renewed.</summary>
    private async Task<bool> SessionAsync(AgentIdentity identity, Uri coordinator, Action connected, CancellationToken stoppingToken)
    {
        using var channel = CoordinatorChannels.ForIdentity(coordinator, identity, reason => Log.Untrusted(logger, coordinator, reason));
        var client = new AgentService.AgentServiceClient(channel);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var call = client.Connect(cancellationToken: session.Token);
        using var sender = new StreamSender(call.RequestStream);

        var hello = new Hello { Node = options.Node, AgentVersion = Version };
        hello.RecentSteps.Add(journal.Recent(RecentStepsInHello).Select(e => e.ToResult()));
        await sender.SendAsync(new AgentMessage { Hello = hello }, session.Token);
        await SendReportAsync(sender, session.Token);
        ThrowIfRefused(call);
        connected();
        Log.Connected(logger, coordinator, options.Node);

        var background = new[]
        {
            EveryAsync(coordinator, options.HeartbeatInterval, () => sender.SendAsync(new AgentMessage { Heartbeat = new Heartbeat { SentAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()) } }, session.Token), session),
            EveryAsync(coordinator, options.ReportInterval, () => SendReportAsync(sender, session.Token), session),
            RenewIdentityWhenDueAsync(identity, coordinator, session),
        };
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(session.Token))
            {
                var answer = await dispatcher.DispatchAsync(message, session.Token);
                await sender.SendAsync(answer, session.Token);
                if (message.BodyCase is CoordinatorMessage.BodyOneofCase.Install or CoordinatorMessage.BodyOneofCase.Rollback)
                {
                    await SendReportAsync(sender, session.Token);
                }
                else
                {
                    idleMemory.Release();
                }
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException && _identityRenewed && !stoppingToken.IsCancellationRequested)
        {
            // the session was ended on purpose to reconnect with the renewed identity
        }
        finally
        {
            await session.CancelAsync();
            await Task.WhenAll(background);
        }
        var renewed = _identityRenewed;
        _identityRenewed = false;
        return renewed;
    }

    private volatile bool _identityRenewed;

    /// <summary>Waits until the identity is due, renews it over this channel's credentials, then ends the session.</summary>
    private async Task RenewIdentityWhenDueAsync(AgentIdentity identity, Uri coordinator, CancellationTokenSource session)
    {
        var failed = false;
        try
        {
            while (true)
            {
                var wait = IdentityRenewal.Wait(identity.Certificate, time.GetUtcNow(), failed);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, session.Token);
                    if (IdentityRenewal.DueAt(identity.Certificate) > time.GetUtcNow())
                    {
                        continue; // a long wait is cut into days; a retry after a failure is not
                    }
                }
                if (await enroller.RenewAsync(identity, coordinator, session.Token))
                {
                    _identityRenewed = true;
                    await session.CancelAsync();
                    return;
                }
                failed = true;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// A standby refuses the stream at once, and the writes before may have been taken before its answer came: a
    /// stream already ended with an error was never a connection (the agent would otherwise call it one and lose its
    /// backoff). A refusal that comes later still ends the session as any lost stream does.
    /// </summary>
    private static void ThrowIfRefused(AsyncDuplexStreamingCall<AgentMessage, CoordinatorMessage> call)
    {
        Status status;
        try
        {
            status = call.GetStatus();
        }
        catch (InvalidOperationException)
        {
            return; // still open: the coordinator took it
        }
        if (status.StatusCode != StatusCode.OK)
        {
            throw new RpcException(status, call.GetTrailers());
        }
    }

    private async Task SendReportAsync(StreamSender sender, CancellationToken cancellationToken)
    {
        var report = inventory.Handle();
        await sender.SendAsync(new AgentMessage { Inventory = report }, cancellationToken);
        idleMemory.Release(); // a scan is the agent's biggest burst (every certificate parsed), and it idles after it
    }

    /// <summary>Runs <paramref name="action"/> every period until the session ends; a failure ends the session.</summary>
    private async Task EveryAsync(Uri coordinator, TimeSpan period, Func<Task> action, CancellationTokenSource session)
    {
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(session.Token))
            {
                await action();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or PkiException)
        {
            Log.Disconnected(logger, coordinator, e.Message);
            await session.CancelAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Connected to coordinator {Coordinator} as {Node}")]
        public static partial void Connected(ILogger logger, Uri coordinator, string node);

        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Connection to {Coordinator} lost: {Reason}")]
        public static partial void Disconnected(ILogger logger, Uri coordinator, string reason);

        [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Reconnecting in {DelaySeconds:0.0} s")]
        public static partial void Reconnecting(ILogger logger, double delaySeconds);

        [LoggerMessage(EventId = 207, Level = LogLevel.Information, Message = "Trying coordinator {Coordinator}, the next of the group")]
        public static partial void TryingNext(ILogger logger, Uri coordinator);

        [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Now connected to coordinator {Coordinator} instead of {Previous}")]
        public static partial void Switched(ILogger logger, Uri coordinator, Uri previous);

        [LoggerMessage(EventId = 204, Level = LogLevel.Error, Message = "Coordinator {Coordinator} not trusted: {Reason}")]
        public static partial void Untrusted(ILogger logger, Uri coordinator, string reason);

        [LoggerMessage(EventId = 205, Level = LogLevel.Critical, Message = "certfleet-agent stops: {Reason}")]
        public static partial void Stopping(ILogger logger, string reason);
    }
}
