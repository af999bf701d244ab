using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Authorities;

/// <summary>A CA certificate with its key, read and checked to belong together; the key is disposed with it.</summary>
public sealed class LoadedAuthority(CertificateInfo certificate, PrivateKey key, ClusterAuthorityFiles files) : IDisposable
{
    public CertificateInfo Certificate { get; } = certificate;

    public PrivateKey Key { get; } = key;

    public ClusterAuthorityFiles Files { get; } = files;

    public void Dispose() => Key.Dispose();
}
