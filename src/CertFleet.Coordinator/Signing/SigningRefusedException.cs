using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Signing;

/// <summary>The coordinator would not sign: the refusal says which node, which certificate and why.</summary>
internal sealed class SigningRefusedException(RefusedCertificate refusal)
    : Exception($"{refusal.Node}: {refusal.Path} ({refusal.Subject}) was not renewed: {refusal.Reason}")
{
    public RefusedCertificate Refusal { get; } = refusal;
}
