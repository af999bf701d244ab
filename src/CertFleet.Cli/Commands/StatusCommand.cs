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
            var status = await connection.Admin.GetStatusAsync(new StatusRequest(), cancellationToken: cancellation);
            var now = context.Time.GetUtcNow();
            if (parsed.GetValue(output) == "json")
            {
                FleetStatusOutput.WriteJson(context.Output, status, now);
            }
            else
            {
                FleetStatusOutput.WriteTable(context.Output, status, now);
            }
            return ExitCodes.Success;
        }));
        return command;
    }
}
