namespace CertFleet.Cli.Demo;

/// <summary>The demo could not go on (a program stopped or never answered); the message says which and shows its last lines.</summary>
internal sealed class DemoFailedException(string message) : Exception(message);
