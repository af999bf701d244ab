using System.CommandLine;
using CertFleet.Cli.Commands;
using CertFleet.Pki;

namespace CertFleet.Cli;

/// <summary>The `certfleet` command: parses, dispatches to one command class per verb, turns input errors into messages.</summary>
internal static class CertFleetCli
{
    public static int Run(string[] args, CliContext context)
    {
        var root = new RootCommand("CertFleet: keeps the certificates of a binary-deployed Kubernetes cluster from expiring.")
        {
            CheckExpirationCommand.Create(context),
            RenewCommand.Create(context),
            VerifyCommand.Create(context),
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
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = context.Output,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (PkiException e)
        {
            context.Error.WriteLine($"certfleet: {e.Message}");
            return ExitCodes.InvalidInput;
        }
    }
}
