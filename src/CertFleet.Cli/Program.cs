using CertFleet.Cli;

return CertFleetCli.Run(args, new CliContext(TimeProvider.System, Console.Out, Console.Error));
