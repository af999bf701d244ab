using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet status [-o json]`: every node, whether its agent is connected, and its certificates.</summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var output = CommonOptions.Output();
        var command = new Command("status", "Show every enrolled node, its agent's connection and its certificates' expiry") { output };
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var status = await connection.Admin.GetWholeStatusAsync(cancellation);
            // the rollout that owns the fleet now, if any: a halted one waits for the operator
            var rollouts = await connection.Admin.ListAllRolloutsAsync(cancellation);
            var unfinished = rollouts.Rollouts.FirstOrDefault(r => r.State is RolloutState.Running or RolloutState.Halted);
            var now = context.Time.GetUtcNow();
            if (parsed.GetValue(output) == "json")
            {
                FleetStatusOutput.WriteJson(context.Output, status, unfinished, now);
            }
            else
            {
                FleetStatusOutput.WriteTable(context.Output, status, unfinished, now);
            }
            return ExitCodes.Success;
        }));
        return command;
    }
}
