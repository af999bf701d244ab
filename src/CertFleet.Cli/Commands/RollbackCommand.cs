using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet rollback --rollout ID [--node N] [-o json]`: puts back, from the backups the rollout made, the files it
/// installed (on every node or on one) and restarts the units that use them; exits 1 when a node could not be rolled back.
/// </summary>
internal static class RollbackCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var rolloutOption = new Option<string>("--rollout")
        {
            Description = "The rollout whose files to put back (see 'certfleet rollout list')", HelpName = "ID", Required = true,
        };
        var nodeOption = new Option<string>("--node") { Description = "Only this node (default: every node the rollout installed on)", HelpName = "N" };
        var output = CommonOptions.Output();
        var command = new Command("rollback", "Put back a rollout's files from their backups and restart the units that use them")
        {
            rolloutOption, nodeOption, output,
        };
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var id = parsed.GetValue(rolloutOption)!;
            var rollout = await connection.Admin.RollbackRolloutAsync(
                new RollbackRolloutRequest { RolloutId = id, Node = parsed.GetValue(nodeOption) ?? "" }, cancellationToken: cancellation);
            if (parsed.GetValue(output) == "json")
            {
                RolloutOutput.WriteJson(context.Output, rollout);
            }
            else
            {
                RolloutOutput.WriteRollout(context.Output, rollout);
            }
            // this call's rollback steps are the rollout's last batch
            var rollbacks = rollout.Steps.Where(s => s.Kind == StepKind.Rollback).ToList();
            var last = rollbacks.Count == 0 ? 0 : rollbacks.Max(s => s.Batch);
            var failed = rollbacks.Where(s => s.Batch == last && s.State == StepState.Failed).ToList();
            foreach (var step in failed)
            {
                context.Error.WriteLine($"certfleet: {Shown(step.Node)} was not rolled back: {Shown(step.Message)}");
                context.Error.WriteLine($"When its agent is back, run: certfleet rollback --rollout {id} --node {Shown(step.Node)}");
            }
            if (failed.Count > 0)
            {
                return ExitCodes.ProblemsFound;
            }
            if (parsed.GetValue(output) != "json")
            {
                var nodes = string.Join(", ", rollbacks.Where(s => s.Batch == last).Select(s => s.Node));
                context.Output.WriteLine($"Rolled back {nodes}: the files from before rollout {id} are back and their units restarted; rollout {id} is {rollout.State.ToText()}.");
            }
            return ExitCodes.Success;
        }));
        return command;
    }
}
