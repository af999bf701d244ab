using System.CommandLine;
using System.CommandLine.Help;
using CertFleet.Cli.Commands;
using CertFleet.Cli.Demo;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Pki;

namespace CertFleet.Cli;

/// <summary>
/// The `certfleet` command: parses, dispatches to one command class per verb, turns input errors into messages and
/// anything unexpected into one line and <see cref="ExitCodes.Failed"/>.
/// </summary>
internal static class CertFleetCli
{
    public static int Run(string[] args, CliContext context) => RunAsync(args, context).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // nothing from outside reaches the terminal raw, whichever command prints it
        context = context with { Output = new TerminalWriter(context.Output), Error = new TerminalWriter(context.Error) };
        int exitCode;
        try
        {
            exitCode = await DispatchAsync(args, context).ConfigureAwait(false);
            context.Output.Flush();
        }
        catch (Exception e)
        {
            // one line, not a stack trace: the operator needs what failed; the type tells a bug report where to look
            context.Error.WriteLine($"certfleet: {TerminalText.Shown(OneLine(e.Message))} ({e.GetType().Name})");
            exitCode = ExitCodes.Failed;
        }
        context.Error.Flush();
        return exitCode;
    }

    /// <summary>The whole command tree; its tests walk it to find options without a mode in <see cref="OptionModes"/>.</summary>
    internal static RootCommand Create(CliContext context)
    {
        var config = new Option<string>("--config")
        {
            Description = $"The coordinator's admin.conf (default ${AdminConfigFile.EnvironmentVariable}, then {AdminConfigFile.DefaultPath})",
            HelpName = "FILE",
            Recursive = true,
        };
        return new RootCommand("CertFleet: keeps the certificates of a binary-deployed Kubernetes cluster from expiring.")
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
    }

    private static async Task<int> DispatchAsync(string[] args, CliContext context)
    {
        var parsed = Create(context).Parse(args);
        // an option in a mode where it means nothing is refused like a parse error: before anything is read or contacted
        var errors = parsed.Errors.Select(e => e.Message).Concat(RekeyAuthorityNames.EmptyValues(args)).ToList();
        if (errors.Count == 0 && parsed.Action is not HelpAction)
        {
            errors.AddRange(OptionModes.Refusals(parsed));
        }
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                context.Error.WriteLine($"certfleet: {error}");
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

    private static string OneLine(string message) => string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
