namespace CertFleet.Cli;

/// <summary>What a command needs from the outside world, so tests can give it a fake clock and capture output.</summary>
internal sealed record CliContext(TimeProvider Time, TextWriter Output, TextWriter Error);
