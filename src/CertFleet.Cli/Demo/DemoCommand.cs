using System.CommandLine;

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
            if (SqliteMissing() is { } problem)
            {
                await context.Error.WriteLineAsync($"certfleet demo: {problem}").ConfigureAwait(false);
                return ExitCodes.InvalidInput;
            }
            await using var demo = new DemoRun(context, parsed.GetValue(keep), parsed.GetValue(verbose));
            return await demo.RunAsync(cancellation);
        });
        return command;
    }

    /// <summary>
    /// Why the demo's coordinator could not keep its state, or null. The native `certfleet` loads SQLite's library
    /// (libe_sqlite3.so) from its own folder, as the package installs it; the binary copied alone runs every other
    /// command, and the demo should say so before it writes a sandbox, not stop half-way with a stack trace.
    /// </summary>
    private static string? SqliteMissing()
    {
        try
        {
            SQLitePCL.Batteries_V2.Init();
            return null;
        }
        catch (Exception e) when (Chain(e).Any(inner => inner is DllNotFoundException))
        {
            return $"SQLite's library (libe_sqlite3.so) is not beside {Environment.ProcessPath}, and the demo's coordinator "
                + "keeps its state in SQLite; run the certfleet the package installs (/usr/bin/certfleet), or copy "
                + "libe_sqlite3.so from /usr/lib/certfleet or the publish folder next to this binary";
        }
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
