using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Verification;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet verify --local [--root DIR] [--ca-cert F]... [-o table|json] [--warn-within DAYS]`: every key matches,
/// every certificate chains to a CA on the node (or one given with --ca-cert) and is not about to expire, every file a
/// unit names exists.
/// `certfleet verify [--node N] [-o json]` asks every agent (or one) to run that check and gathers the results.
/// Exits 1 naming each problem when anything fails.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var local = CommonOptions.Local();
        var root = CommonOptions.Root();
        var output = CommonOptions.Output();
        var node = new Option<string>("--node") { Description = "Without --local: verify only this node", HelpName = "NAME" };
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
        var outside = new OutsideAuthorityOptions(withKeys: false);
        var command = new Command("verify", "Check that every certificate matches its key, chains to its CA and is not expiring")
        {
            local, root, output, node, warnWithin,
        };
        outside.AddTo(command);
        command.SetAction((parsed, cancellation) =>
        {
            var json = parsed.GetValue(output) == "json";
            if (parsed.GetValue(local))
            {
                using var inventory = new NodeScanner(context.Time).Scan(CommonOptions.OpenRoot(parsed.GetValue(root)!), outside.Certificates(parsed));
                var report = new LocalVerifier(context.Time).Verify(inventory, TimeSpan.FromDays(parsed.GetValue(warnWithin)));
                if (json)
                {
                    VerificationOutput.WriteJson(context.Output, report);
                }
                else
                {
                    VerificationOutput.WriteTable(context.Output, report);
                }
                return Task.FromResult(report.Passed ? ExitCodes.Success : ExitCodes.ProblemsFound);
            }
            return FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
            {
                var response = await connection.Admin.VerifyFleetAsync(new VerifyFleetRequest
                {
                    Node = parsed.GetValue(node) ?? "",
                    WarnWithinDays = parsed.GetValue(warnWithin),
                }, cancellationToken: cancellation);
                if (json)
                {
                    RolloutOutput.WriteJson(context.Output, response);
                }
                else
                {
                    VerificationOutput.WriteFleetTable(context.Output, response);
                }
                var passed = response.Nodes.Count > 0 && response.Nodes.All(n => n.Reachable && n.Result is { Passed: true });
                return passed ? ExitCodes.Success : ExitCodes.ProblemsFound;
            });
        });
        return command;
    }
}
