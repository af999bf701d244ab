namespace CertFleet.Cli;

/// <summary>What a command needs from the outside world, so tests can give it a fake clock and capture output.</summary>
internal sealed record CliContext(TimeProvider Time, TextWriter Output, TextWriter Error)
{
    /// <summary>Standard output is a terminal: a progress line may be rewritten in place there (never in a pipe or a file).</summary>
    public bool OutputIsTerminal { get; init; }
}
