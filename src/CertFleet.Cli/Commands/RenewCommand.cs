using System.CommandLine;
using CertFleet.Cli.Output;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet renew --local [--root DIR] [--ca] [--days N] [--ca-days N] [--dry-run]`: renews, with their existing
/// keys, every certificate this machine holds the CA key for. It never restarts anything: it says what to restart.
/// </summary>
internal static class RenewCommand
{
    public static Command Create(CliContext context)
    {
        var local = CommonOptions.Local();
        var root = CommonOptions.Root();
        var ca = new Option<bool>("--ca") { Description = "Renew the CA certificates too (same key), before the leaves" };
        var days = new Option<int>("--days")
        {
            Description = "Validity of renewed leaf certificates, in days",
            DefaultValueFactory = _ => (int)RenewalOptions.DefaultLeafValidity.TotalDays,
            HelpName = "N",
        };
        var caDays = new Option<int>("--ca-days")
        {
            Description = "Validity of renewed CA certificates, in days",
            DefaultValueFactory = _ => (int)RenewalOptions.DefaultAuthorityValidity.TotalDays,
            HelpName = "N",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan and change nothing" };
        days.Validators.Add(r => RequirePositive(r, "--days"));
        caDays.Validators.Add(r => RequirePositive(r, "--ca-days"));

        var command = new Command("renew", "Renew certificates with their existing keys")
        {
            local, root, ca, days, caDays, dryRun,
        };
        command.SetAction(parsed =>
        {
            if (!parsed.GetValue(local))
            {
                context.Error.WriteLine("certfleet: renew without --local renews a whole fleet through a coordinator; "
                    + "to renew this machine's certificates, run 'certfleet renew --local'");
                return ExitCodes.InvalidInput;
            }
            var options = new RenewalOptions
            {
                LeafValidity = TimeSpan.FromDays(parsed.GetValue(days)),
                AuthorityValidity = TimeSpan.FromDays(parsed.GetValue(caDays)),
                RenewAuthorities = parsed.GetValue(ca),
            };
            return Run(context, parsed.GetValue(root)!, options, parsed.GetValue(dryRun));
        });
        return command;
    }

    private static int Run(CliContext context, string rootDirectory, RenewalOptions options, bool dryRun)
    {
        var output = context.Output;
        using var inventory = new NodeScanner(context.Time).Scan(CommonOptions.OpenRoot(rootDirectory));
        var plan = new RenewalPlanner(context.Time).Plan(inventory, options);

        RenewalReport.WritePlan(output, plan, inventory, dryRun);
        if (dryRun)
        {
            output.WriteLine();
            output.WriteLine("Dry run: nothing was changed.");
            return ExitCodes.Success;
        }
        var result = new LocalRenewal(context.Time).Apply(inventory, plan, options);
        RenewalReport.WriteResult(output, plan, result);
        return ExitCodes.Success;
    }

    private static void RequirePositive(System.CommandLine.Parsing.OptionResult result, string name)
    {
        // a value that is not a number at all is reported by the parser itself
        if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, out var days) && days <= 0)
        {
            result.AddError($"{name} must be a whole number of days greater than 0");
        }
    }
}
