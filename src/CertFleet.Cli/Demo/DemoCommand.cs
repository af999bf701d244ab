using System.CommandLine;

namespace CertFleet.Cli.Demo;

/// <summary>
/// `certfleet demo [--keep] [--verbose] [--rekey-ca]`: the whole story in one command, on a sandbox cluster in a
/// temporary folder; --rekey-ca adds a chapter that replaces every cluster CA's key (docs/CA-REKEY.md).
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the sandbox folder (and stop nothing but the processes) at the end" };
        var verbose = new Option<bool>("--verbose") { Description = "Show the coordinator's and the agents' logs too" };
        var rekey = new Option<bool>("--rekey-ca")
        {
            Description = "After the renewal, give every cluster CA of the sandbox a new key (certfleet renew --all --rekey-ca --wait) and check every leaf against the new CAs",
        };
        var command = new Command("demo", "Renew a sandbox cluster's certificates (3 masters with real etcd when installed, 3 workers) from end to end")
        {
            keep,
            verbose,
            rekey,
            SandboxUnitCommand.Create(context),
        };
        command.Subcommands[0].Hidden = true;
        command.SetAction(async (parsed, cancellation) =>
        {
            // before the sandbox is written: without both programs there is no demo
            if (DemoPrograms.Find(AppContext.BaseDirectory, Environment.GetEnvironmentVariable("PATH"), out var missing) is not { } programs)
            {
                await context.Error.WriteLineAsync($"certfleet demo: {missing}").ConfigureAwait(false);
                return ExitCodes.InvalidInput;
            }
            try
            {
                await using var demo = new DemoRun(context, programs.Coordinator, programs.Agent, parsed.GetValue(keep), parsed.GetValue(verbose),
                    parsed.GetValue(rekey));
                return await demo.RunAsync(cancellation);
            }
            catch (DemoFailedException e)
            {
                await context.Error.WriteLineAsync($"certfleet demo: {e.Message}").ConfigureAwait(false);
                return ExitCodes.ProblemsFound;
            }
        });
        return command;
    }
}
