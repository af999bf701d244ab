using System.CommandLine;
using CertFleet.Cli.Output;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Verification;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet verify --local [--root DIR] [-o table|json] [--warn-within DAYS]`: every key matches, every
/// certificate chains to a CA on the node and is not about to expire, every file a unit names exists.
/// Exits 1 naming each problem when anything fails.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext context)
    {
        var local = CommonOptions.Local();
        var root = CommonOptions.Root();
        var output = CommonOptions.Output();
        var warnWithin = new Option<int>("--warn-within")
        {
            Description = "Report certificates that expire within this many days",
            DefaultValueFactory = _ => (int)LocalVerifier.DefaultWarningThreshold.TotalDays,
            HelpName = "DAYS",
        };
        warnWithin.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, out var days) && days < 0)
            {
                r.AddError("--warn-within must be 0 or more days");
            }
        });
        var command = new Command("verify", "Check that every certificate on this node matches its key, chains to its CA and is not expiring")
        {
            local, root, output, warnWithin,
        };
        command.SetAction(parsed =>
        {
            if (!parsed.GetValue(local))
            {
                context.Error.WriteLine("certfleet: verify without --local asks a coordinator to verify every node; "
                    + "to verify this machine, run 'certfleet verify --local'");
                return ExitCodes.InvalidInput;
            }
            using var inventory = new NodeScanner(context.Time).Scan(CommonOptions.OpenRoot(parsed.GetValue(root)!));
            var report = new LocalVerifier(context.Time).Verify(inventory, TimeSpan.FromDays(parsed.GetValue(warnWithin)));
            if (parsed.GetValue(output) == "json")
            {
                VerificationOutput.WriteJson(context.Output, report);
            }
            else
            {
                VerificationOutput.WriteTable(context.Output, report);
            }
            return report.Passed ? ExitCodes.Success : ExitCodes.ProblemsFound;
        });
        return command;
    }
}
