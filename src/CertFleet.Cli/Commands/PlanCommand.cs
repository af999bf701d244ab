using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet plan [--all | --expiring-within D] [--ca] [--detail] [-o table|json]`: what a fleet renewal would renew
/// where, and its ordered steps; a summary for a large fleet, every certificate and step with --detail or -o json.
/// `certfleet plan --rekey-ca [CA]`: the same of a CA re-key, with the files each step writes.
/// </summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var request = new RolloutRequestOptions(startsRollout: false);
        var detail = Detail();
        var output = CommonOptions.Output();
        var command = new Command("plan", "Show what a fleet renewal would renew on which node, and the ordered steps.\n\n"
            + "With --rekey-ca [CA], the plan of a CA re-key, which gives the fleet's CAs new keys in one rollout of three phases:\n"
            + RekeyOptions.Phases + "Under each trust, switch-signing and retire step, the plan lists the files that step writes on its node.")
        {
            detail, output,
        };
        request.AddTo(command, withBatch: true);
        command.SetAction((parsed, cancellation) =>
        {
            // before connecting: a --new-ca-cert/--new-ca-key that will not do is refused with nothing sent
            var whole = request.ToRequest(parsed);
            return FleetCommandRunner.RunAsync(context, parsed.GetValue(config),
                connection => ShowAsync(context, connection.Admin, whole, parsed.GetValue(detail), parsed.GetValue(output) == "json", cancellation));
        });
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
