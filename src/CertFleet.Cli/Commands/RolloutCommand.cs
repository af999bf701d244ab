using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet rollout list|show|resume|abort [ID] [-o json]`.</summary>
internal static class RolloutCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var list = new Command("list", "List rollouts, newest first");
        var listOutput = CommonOptions.Output();
        list.Options.Add(listOutput);
        list.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var rollouts = await connection.Admin.ListAllRolloutsAsync(cancellation);
            if (parsed.GetValue(listOutput) == "json")
            {
                RolloutOutput.WriteJson(context.Output, rollouts);
            }
            else
            {
                RolloutOutput.WriteList(context.Output, rollouts);
            }
            return ExitCodes.Success;
        }));
        return new Command("rollout", "Inspect and steer rollouts")
        {
            list,
            ForOne(context, config, "show", "Show a rollout's steps and state", (admin, id, c) => admin.GetRolloutAsync(id, cancellationToken: c).ResponseAsync),
            ForOne(context, config, "resume", "Resume a halted rollout from its failed step", (admin, id, c) => admin.ResumeRolloutAsync(id, cancellationToken: c).ResponseAsync),
            ForOne(context, config, "abort", "Abort a rollout; steps already done stay done", (admin, id, c) => admin.AbortRolloutAsync(id, cancellationToken: c).ResponseAsync),
        };
    }

    private static Command ForOne(CliContext context, Option<string> config, string name, string description,
        Func<AdminService.AdminServiceClient, RolloutId, CancellationToken, Task<Rollout>> call)
    {
        var id = new Argument<string>("ID") { Description = "The rollout's id (see 'certfleet rollout list')" };
        var output = CommonOptions.Output();
        var command = new Command(name, description) { id, output };
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var rollout = await call(connection.Admin, new RolloutId { Id = parsed.GetValue(id)! }, cancellation);
            if (parsed.GetValue(output) == "json")
            {
                RolloutOutput.WriteJson(context.Output, rollout);
            }
            else
            {
                RolloutOutput.WriteRollout(context.Output, rollout);
            }
            return ExitCodes.Success;
        }));
        return command;
    }
}
