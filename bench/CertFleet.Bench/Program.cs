using CertFleet.Bench;

return await BenchCommand.RunAsync(args);
