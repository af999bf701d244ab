using CertFleet.Pki;
using Grpc.Core;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// Runs a fleet command: opens the connection from the admin config and turns what can go wrong on the way
/// (no config, coordinator down, refused) into one line for the operator and an exit code.
/// </summary>
internal static class FleetCommandRunner
{
    public static async Task<int> RunAsync(CliContext context, string? configOption, Func<CoordinatorConnection, Task<int>> command)
    {
        var path = AdminConfigFile.Locate(configOption);
        CoordinatorConnection? connection = null;
        try
        {
            connection = new CoordinatorConnection(AdminConfigFile.Load(path));
            return await command(connection);
        }
        catch (PkiException e)
        {
            context.Error.WriteLine($"certfleet: {Shown(e.Message)}");
            return ExitCodes.InvalidInput;
        }
        catch (CoordinatorGroupUnavailableException e)
        {
            context.Error.WriteLine($"certfleet: no coordinator named in {Shown(path)} answered:");
            foreach (var (server, why) in e.Attempts)
            {
                context.Error.WriteLine($"  {Shown(server.ToString())}: {Shown(why)}");
            }
            context.Error.WriteLine($"Is certfleet-coordinator running on one of them? During a failover, the next active one takes over within about 20 s: try again then. Check the server addresses in {Shown(path)}");
            return ExitCodes.Unavailable;
        }
        catch (RpcException) when (connection?.Rejection is { } rejection)
        {
            // refused at the TLS handshake: the admin credential was never sent to it
            context.Error.WriteLine($"certfleet: {Shown(rejection)}; nothing was sent to it. Check the server address in {path}");
            return ExitCodes.Unavailable;
        }
        catch (RpcException e)
        {
            context.Error.WriteLine($"certfleet: {Shown(Describe(e, path))}");
            return e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition
                ? ExitCodes.InvalidInput
                : ExitCodes.Unavailable;
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private static string Describe(RpcException e, string configPath) => e.StatusCode switch
    {
        _ when ConnectionLoss.Is(e) || e.StatusCode == StatusCode.DeadlineExceeded =>
            $"cannot reach the coordinator named in {configPath} ({ConnectionLoss.Why(e)}); is certfleet-coordinator running?",
        StatusCode.PermissionDenied or StatusCode.Unauthenticated =>
            $"the coordinator refused the admin credential in {configPath}: {e.Status.Detail}",
        _ => e.Status.Detail,
    };
}
