using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet plan [--all | --expiring-within D] [--ca]`: what a fleet renewal would renew where, and its ordered steps.</summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var request = new RolloutRequestOptions();
        var command = new Command("plan", "Show what a fleet renewal would renew on which node, and the ordered steps");
        request.AddTo(command, withBatch: true);
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var plan = await connection.Admin.PlanWholeAsync(request.ToRequest(parsed), cancellation);
            RolloutOutput.WritePlan(context.Output, plan);
            return ExitCodes.Success;
        }));
        return command;
    }
}
