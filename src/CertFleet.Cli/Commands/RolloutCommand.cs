using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet rollout list|show|resume|abort [ID] [-o json]`; `resume ID [--skip-node N]...`.</summary>
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
            Resume(context, config),
            ForOne(context, config, "abort", "Abort a rollout; steps already done stay done", (admin, id, c) => admin.AbortRolloutAsync(id, cancellationToken: c).ResponseAsync),
        };
    }

    /// <summary>`resume ID [--skip-node N]...`: a node that halts the rollout can be left behind so the rest finishes.</summary>
    private static Command Resume(CliContext context, Option<string> config)
    {
        var skip = new Option<string[]>("--skip-node")
        {
            Description = "Do nothing more on this node: its remaining steps are skipped (and audited), the rest goes on (repeatable)",
            HelpName = "NODE",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = ForOne(context, config, "resume", "Resume a halted rollout from its failed step",
            (admin, id, c) => admin.ResumeRolloutAsync(id, cancellationToken: c).ResponseAsync,
            (id, parsed) => id.SkipNodes.Add(parsed.GetValue(skip) ?? []));
        command.Options.Add(skip);
        return command;
    }

    private static Command ForOne(CliContext context, Option<string> config, string name, string description,
        Func<AdminService.AdminServiceClient, RolloutId, CancellationToken, Task<Rollout>> call, Action<RolloutId, ParseResult>? withOptions = null)
    {
        var id = new Argument<string>("ID") { Description = "The rollout's id (see 'certfleet rollout list')" };
        var output = CommonOptions.Output();
        var command = new Command(name, description) { id, output };
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var request = new RolloutId { Id = parsed.GetValue(id)! };
            withOptions?.Invoke(request, parsed);
            var rollout = await call(connection.Admin, request, cancellation);
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
