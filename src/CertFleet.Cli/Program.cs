using CertFleet.Cli;

return await CertFleetCli.RunAsync(args, new CliContext(TimeProvider.System, Console.Out, Console.Error)
{
    OutputIsTerminal = !Console.IsOutputRedirected,
});
