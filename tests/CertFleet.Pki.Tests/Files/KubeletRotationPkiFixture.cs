using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Files;

/// <summary>One master whose kubelet rotates its client certificate (kubelet-client-current.pem is a symlink).</summary>
public sealed class KubeletRotationPkiFixture() : ClusterPkiFixture("ec", "--kubelet-rotation", "--masters", "1", "--workers", "1");
