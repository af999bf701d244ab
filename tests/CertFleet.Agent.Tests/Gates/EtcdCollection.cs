using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Gates;

/// <summary>One real etcd cluster at a time in this project: its loopback addresses are fixed.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdLoopbackCluster>
{
    public const string Name = "etcd cluster";
}
