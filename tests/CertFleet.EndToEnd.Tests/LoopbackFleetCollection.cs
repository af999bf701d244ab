namespace CertFleet.EndToEnd.Tests;

/// <summary>Tests that start a <see cref="LoopbackFleet"/>: one at a time, since its etcd members use fixed 127.0.10.x addresses.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoopbackFleetCollection
{
    public const string Name = "loopback fleet";
}
