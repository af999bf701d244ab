using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Certificates;

// One master and one worker are enough for the engine's tests and make the fixture several times faster;
// worker-1's kubelet client certificate is already expired (the emergency case).
public sealed class SmallEcPkiFixture() : ClusterPkiFixture("ec", "--masters", "1", "--workers", "1", "--expired-node", "worker-1");

public sealed class SmallRsaPkiFixture() : ClusterPkiFixture("rsa", "--masters", "1", "--workers", "1", "--expired-node", "worker-1");
