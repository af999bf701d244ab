using System.CommandLine;
using CertFleet.Cli.Output;
using CertFleet.Pki.Inventory;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet check-expiration [--root DIR] [--ca-cert F]... [-o table|json]`: every certificate on this node and when it
/// expires; --ca-cert gives CAs from outside the root their certificates may chain to.
/// </summary>
internal static class CheckExpirationCommand
{
    public static Command Create(CliContext context)
    {
        var root = CommonOptions.Root();
        var output = CommonOptions.Output();
        var outside = new OutsideAuthorityOptions(withKeys: false);
        var command = new Command("check-expiration", "Show every certificate on this node, its expiry, its CA and the units that use it")
        {
            root,
            output,
        };
        outside.AddTo(command);
        command.SetAction(parsed =>
        {
            using var inventory = new NodeScanner(context.Time).Scan(CommonOptions.OpenRoot(parsed.GetValue(root)!), outside.Certificates(parsed));
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
