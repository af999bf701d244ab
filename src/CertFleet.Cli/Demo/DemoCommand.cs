using System.CommandLine;
using CertFleet.Coordinator.State;

namespace CertFleet.Cli.Demo;

/// <summary>`certfleet demo [--keep]`: the whole story in one command, on a sandbox cluster in a temporary folder.</summary>
internal static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the sandbox folder (and stop nothing but the processes) at the end" };
        var verbose = new Option<bool>("--verbose") { Description = "Show the coordinator's and the agents' logs too" };
        var command = new Command("demo", "Renew a sandbox cluster's certificates (3 masters with real etcd when installed, 3 workers) from end to end")
        {
            keep,
            verbose,
            SandboxUnitCommand.Create(context),
        };
        command.Subcommands[0].Hidden = true;
        command.SetAction(async (parsed, cancellation) =>
        {
            // before the sandbox is written: the demo's coordinator keeps its state in SQLite
            if (StateDatabase.MissingLibrary() is { } missing)
            {
                await context.Error.WriteLineAsync($"certfleet demo: {missing}, and the demo's coordinator keeps its state in "
                    + "SQLite; run the certfleet the package installs (/usr/bin/certfleet), or put libe_sqlite3.so (from "
                    + "/usr/lib/certfleet or the publish folder) next to this binary").ConfigureAwait(false);
                return ExitCodes.InvalidInput;
            }
            await using var demo = new DemoRun(context, parsed.GetValue(keep), parsed.GetValue(verbose));
            return await demo.RunAsync(cancellation);
        });
        return command;
    }
}
