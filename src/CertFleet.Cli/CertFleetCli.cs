using System.CommandLine;
using CertFleet.Cli.Commands;
using CertFleet.Cli.Demo;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Pki;

namespace CertFleet.Cli;

/// <summary>The `certfleet` command: parses, dispatches to one command class per verb, turns input errors into messages.</summary>
internal static class CertFleetCli
{
    public static int Run(string[] args, CliContext context) => RunAsync(args, context).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // nothing from outside reaches the terminal raw, whichever command prints it
        context = context with { Output = new TerminalWriter(context.Output), Error = new TerminalWriter(context.Error) };
        try
        {
            return await DispatchAsync(args, context).ConfigureAwait(false);
        }
        finally
        {
            context.Output.Flush();
            context.Error.Flush();
        }
    }

    private static async Task<int> DispatchAsync(string[] args, CliContext context)
    {
        var config = new Option<string>("--config")
        {
            Description = $"The coordinator's admin.conf (default ${AdminConfigFile.EnvironmentVariable}, then {AdminConfigFile.DefaultPath})",
            HelpName = "FILE",
            Recursive = true,
        };
        var root = new RootCommand("CertFleet: keeps the certificates of a binary-deployed Kubernetes cluster from expiring.")
        {
            config,
            CheckExpirationCommand.Create(context),
            RenewCommand.Create(context, config),
            VerifyCommand.Create(context, config),
            TokenCommand.Create(context, config),
            StatusCommand.Create(context, config),
            PlanCommand.Create(context, config),
            RolloutCommand.Create(context, config),
            RollbackCommand.Create(context, config),
            AuditCommand.Create(context, config),
            NodeCommand.Create(context, config),
            DemoCommand.Create(context),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                context.Error.WriteLine($"certfleet: {error.Message}");
            }
            context.Error.WriteLine("Run 'certfleet --help' for usage.");
            return ExitCodes.InvalidInput;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = context.Output,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
            }, CancellationToken.None);
        }
        catch (PkiException e)
        {
            context.Error.WriteLine($"certfleet: {e.Message}");
            return ExitCodes.InvalidInput;
        }
    }
}
