Console.WriteLine("certfleet");
