return await CertFleet.Agent.AgentHost.RunAsync(args);
