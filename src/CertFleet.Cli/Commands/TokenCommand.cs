using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet token create [--node NAME] [--role master|worker] [--ttl D] [--print-join-command]`: a bootstrap token for enrolling an agent.</summary>
internal static class TokenCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var node = new Option<string>("--node") { Description = "Only this node may enroll with the token", HelpName = "NAME" };
        var role = new Option<string>("--role")
        {
            Description = "The role the node is enrolled with (masters may hold control-plane identities)",
            DefaultValueFactory = _ => "worker",
        }.AcceptOnlyFromAmong("master", "worker");
        var ttl = DurationOption.Create("--ttl", "How long the token stays valid (default 1h)");
        var printJoin = new Option<bool>("--print-join-command") { Description = "Print the certfleet-agent command a node runs to enroll" };
        var create = new Command("create", "Create a single-use bootstrap token for enrolling an agent") { node, role, ttl, printJoin };
        create.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var response = await connection.Admin.CreateTokenAsync(new CreateTokenRequest
            {
                Node = parsed.GetValue(node) ?? "",
                Role = parsed.GetValue(role) ?? "worker",
                TtlSeconds = (long)(parsed.GetValue(ttl)?.TotalSeconds ?? 0),
            }, cancellationToken: cancellation);
            if (!parsed.GetValue(printJoin))
            {
                context.Output.WriteLine(response.Token);
                return ExitCodes.Success;
            }
            context.Output.WriteLine($"# Token valid until {response.ExpiresAt?.ToDateTimeOffset():yyyy-MM-dd HH:mm} UTC, for one enrollment.");
            context.Output.WriteLine("# On the node, as root, add --node NAME (and --root, --restart-command, ... as needed):");
            context.Output.WriteLine("# (to keep the token out of `ps`, put it in a file of mode 0600 and give --token-file FILE instead of --token)");
            context.Output.WriteLine($"certfleet-agent --coordinator {response.CoordinatorUrl} --token {response.Token} --ca-hash {response.CaHash}");
            return ExitCodes.Success;
        }));
        return new Command("token", "Bootstrap tokens for enrolling agents") { create };
    }
}
