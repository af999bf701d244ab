Console.Error.WriteLine("certfleet-agent: not built yet");
return 2;
