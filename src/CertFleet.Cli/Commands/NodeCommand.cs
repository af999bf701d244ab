using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet node remove NAME`: forget a node and revoke its agent identity (it must enroll again with a new token).</summary>
internal static class NodeCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var name = new Argument<string>("NAME") { Description = "The node to forget, as `certfleet status` names it" };
        var remove = new Command("remove", "Forget a node and revoke its agent's identity; its agent is refused until it enrolls again with a new token") { name };
        remove.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var node = parsed.GetValue(name)!;
            var response = await connection.Admin.RemoveNodeAsync(new RemoveNodeRequest { Node = node }, cancellationToken: cancellation);
            if (!response.Removed)
            {
                context.Error.WriteLine($"certfleet: node {node} is not enrolled at this coordinator; `certfleet status` lists the nodes");
                return ExitCodes.ProblemsFound;
            }
            context.Output.WriteLine($"Node {node} removed: its agent identity is revoked. To bring it back, run `certfleet token create --node {node}` and enroll its agent again.");
            return ExitCodes.Success;
        }));
        return new Command("node", "Enrolled nodes") { remove };
    }
}
