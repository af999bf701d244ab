Console.Error.WriteLine("certfleet-coordinator: not built yet");
return 2;
