using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet plan [--all | --expiring-within D] [--ca]`: what a fleet renewal would renew where, and its ordered steps.</summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var request = new RolloutRequestOptions();
        var command = new Command("plan", "Show what a fleet renewal would renew on which node, and the ordered steps");
        request.AddTo(command, withBatch: true);
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config),
            connection => ShowAsync(context, connection.Admin, request.ToRequest(parsed), cancellation)));
        return command;
    }

    /// <summary>Prints the plan of <paramref name="request"/>; `renew --dry-run` without --local prints it through here too, so the two never differ.</summary>
    public static async Task<int> ShowAsync(CliContext context, AdminService.AdminServiceClient admin, RolloutRequest request, CancellationToken cancellation)
    {
        var plan = await admin.PlanWholeAsync(request, cancellation);
        RolloutOutput.WritePlan(context.Output, plan);
        return ExitCodes.Success;
    }
}
