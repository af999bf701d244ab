using System.CommandLine;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `certfleet renew --local [--root DIR] [--ca] [--days N] [--ca-days N] [--dry-run]` renews, with their existing
/// keys, every certificate this machine holds the CA key for, and says what to restart.
/// `certfleet renew [--all | --expiring-within D] [--ca] [--batch N] [--wait]` renews the whole fleet through the
/// coordinator, restarting services in the runbook's order; with --dry-run it prints that renewal's plan, as
/// `certfleet plan` does, and starts nothing. `certfleet renew --all --rekey-ca [CA] [--wait]` gives the fleet's CAs
/// new keys instead (<see cref="RekeyOptions"/>). Which option goes with which mode is <see cref="OptionModes"/>'s.
/// </summary>
internal static class RenewCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var local = CommonOptions.Local();
        var root = CommonOptions.Root();
        var days = DaysOption.Create("--days", "Validity of renewed leaf certificates, in days", RenewalOptions.DefaultLeafValidity);
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Change nothing: with --local, print what would be renewed here; without, print the fleet's plan (as `certfleet plan`) and start no rollout",
        };
        var wait = new Option<bool>("--wait") { Description = "Follow the rollout to its end; exit non-zero when it halts" };
        var detail = PlanCommand.Detail();
        var fleet = new RolloutRequestOptions(startsRollout: true);
        var outside = new OutsideAuthorityOptions(withKeys: true);

        var command = new Command("renew", "Renew certificates with their existing keys: this machine's (--local) or the fleet's.\n\n"
            + "With --all --rekey-ca [CA], the fleet's CAs get new keys instead, in one rollout of three phases:\n" + RekeyOptions.Phases
            + "'certfleet plan --rekey-ca [CA]' shows each step and the files it writes.")
        {
            local, root, days, dryRun, wait, detail,
        };
        fleet.AddTo(command, withBatch: true);
        outside.AddTo(command);
        command.SetAction((parsed, cancellation) =>
        {
            var options = new RenewalOptions
            {
                LeafValidity = TimeSpan.FromDays(parsed.GetValue(days)),
                AuthorityValidity = TimeSpan.FromDays(parsed.GetValue(fleet.AuthorityDays)),
                RenewAuthorities = parsed.GetValue(fleet.Authorities),
            };
            if (parsed.GetValue(local))
            {
                return Task.FromResult(RunLocal(context, parsed.GetValue(root)!, options, parsed.GetValue(dryRun), outside.Authorities(parsed)));
            }
            var request = fleet.ToRequest(parsed);
            request.LeafDays = parsed.GetValue(days);
            if (parsed.GetValue(dryRun))
            {
                return FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
                {
                    var exitCode = await PlanCommand.ShowAsync(context, connection.Admin, request, parsed.GetValue(detail), json: false, cancellation);
                    // on stderr: stdout stays exactly what `certfleet plan` prints, for a script comparing the two
                    context.Error.WriteLine("certfleet: dry run: this is the plan; no rollout was started and nothing changed. "
                        + "Run the same command without --dry-run to start it.");
                    return exitCode;
                });
            }
            return FleetCommandRunner.RunAsync(context, parsed.GetValue(config),
                connection => FleetRenewal.RunAsync(context, connection.Admin, request, parsed.GetValue(wait), parsed.GetValue(detail), cancellation));
        });
        return command;
    }

    /// <param name="outside">CAs from outside the root (--ca-cert/--ca-key): they issue and sign as if they were on the node</param>
    private static int RunLocal(CliContext context, string rootDirectory, RenewalOptions options, bool dryRun, IReadOnlyList<LoadedAuthority> outside)
    {
        try
        {
            using var inventory = new NodeScanner(context.Time).Scan(CommonOptions.OpenRoot(rootDirectory),
                [.. outside.Select(a => new TrustedAuthority(a.Certificate, a.Files.CertificatePath))]);
            var plan = new RenewalPlanner(context.Time).Plan(inventory, options with { OutsideKeys = [.. outside.Select(a => a.Key)] });
            return WriteAndApply(context, inventory, plan, options, dryRun);
        }
        finally
        {
            foreach (var authority in outside)
            {
                authority.Dispose();
            }
        }
    }

    private static int WriteAndApply(CliContext context, NodeInventory inventory, RenewalPlan plan, RenewalOptions options, bool dryRun)
    {
        var output = context.Output;

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
}
