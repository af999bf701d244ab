using System.CommandLine;
using CertFleet.Cli.Output;
using CertFleet.Pki.Inventory;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet check-expiration [--root DIR] [-o table|json]`: every certificate on this node and when it expires.</summary>
internal static class CheckExpirationCommand
{
    public static Command Create(CliContext context)
    {
        var root = CommonOptions.Root();
        var output = CommonOptions.Output();
        var command = new Command("check-expiration", "Show every certificate on this node, its expiry, its CA and the units that use it")
        {
            root,
            output,
        };
        command.SetAction(parsed =>
        {
            using var inventory = new NodeScanner(context.Time).Scan(CommonOptions.OpenRoot(parsed.GetValue(root)!));
            var now = context.Time.GetUtcNow();
            if (parsed.GetValue(output) == "json")
            {
                ExpiryJson.Write(context.Output, inventory, now);
            }
            else
            {
                ExpiryTable.Write(context.Output, inventory, now);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
