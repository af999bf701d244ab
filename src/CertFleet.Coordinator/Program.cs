using CertFleet.Coordinator.Hosting;

return await CoordinatorHost.RunAsync(args);
