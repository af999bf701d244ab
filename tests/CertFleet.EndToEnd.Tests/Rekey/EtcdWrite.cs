namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>One try of a write against one member, with the client files it used (<see cref="EtcdClientFiles.Description"/>).</summary>
internal sealed record EtcdWriteAttempt(TimeSpan At, DateTimeOffset Wall, string Member, bool Accepted, TimeSpan Took, string Error, string Credentials)
{
    public override string ToString() =>
        $"{At.TotalSeconds,7:0.00}s {Wall:HH:mm:ss.fff}Z {Member} {(Accepted ? "accepted" : "FAILED")} in {Took.TotalMilliseconds:0} ms; {Credentials}"
        + (Accepted ? "" : $"; {Error}");
}

/// <summary>One write of the probe: the cluster served it when one of its attempts was accepted.</summary>
internal sealed record EtcdWrite(int Number, TimeSpan At, DateTimeOffset Wall, IReadOnlyList<EtcdWriteAttempt> Attempts)
{
    public bool Accepted => Attempts.Any(a => a.Accepted);

    public override string ToString() =>
        $"write {Number} at {At.TotalSeconds:0.00}s ({Wall:HH:mm:ss.fff}Z) {(Accepted ? "accepted" : "failed")} after {Attempts.Count} attempt(s):\n  "
        + string.Join("\n  ", Attempts);
}
