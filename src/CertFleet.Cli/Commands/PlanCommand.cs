using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet plan [--all | --expiring-within D] [--ca] [--detail] [-o table|json]`: what a fleet renewal would renew
/// where, and its ordered steps; a summary for a large fleet, every certificate and step with --detail or -o json.
/// </summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var request = new RolloutRequestOptions();
        var detail = Detail();
        var output = CommonOptions.Output();
        var command = new Command("plan", "Show what a fleet renewal would renew on which node, and the ordered steps") { detail, output };
        request.AddTo(command, withBatch: true);
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config),
            connection => ShowAsync(context, connection.Admin, request.ToRequest(parsed), parsed.GetValue(detail), parsed.GetValue(output) == "json", cancellation)));
        return command;
    }

    public static Option<bool> Detail() => new("--detail")
    {
        Description = "Every certificate, refusal and step (and with renew --wait, every step's progress), not the summary a large fleet gets",
    };

    /// <summary>Prints the plan of <paramref name="request"/>; `renew --dry-run` without --local prints it through here too, so the two never differ.</summary>
    public static async Task<int> ShowAsync(CliContext context, AdminService.AdminServiceClient admin, RolloutRequest request, bool detail, bool json,
        CancellationToken cancellation)
    {
        var plan = await admin.PlanWholeAsync(request, cancellation);
        if (json)
        {
            RolloutOutput.WriteJson(context.Output, plan);
        }
        else
        {
            RolloutOutput.WritePlan(context.Output, plan, detail);
        }
        return ExitCodes.Success;
    }
}
