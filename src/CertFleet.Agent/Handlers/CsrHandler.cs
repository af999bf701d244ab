using CertFleet.Pki;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Agent.Handlers;

/// <summary>CsrRequest: a renewal CSR per fingerprint, signed on the node by the certificate's own key.</summary>
internal sealed class CsrHandler(NodeAccess node)
{
    public CsrResponse Handle(CsrRequest request)
    {
        using var inventory = node.Scan();
        var response = new CsrResponse();
        foreach (var fingerprint in request.Fingerprints)
        {
            var entries = inventory.Certificates
                .Where(e => string.Equals(e.Certificate.Sha256Fingerprint, fingerprint, StringComparison.OrdinalIgnoreCase))
                .ToList();
            var withKey = entries.FirstOrDefault(e => e.Key is not null);
            var csr = new GeneratedCsr { Fingerprint = fingerprint };
            if (entries.Count == 0)
            {
                csr.Error = $"no certificate with fingerprint {fingerprint} on this node (it may have been replaced since the last report)";
            }
            else if (withKey?.Key is not { } key)
            {
                csr.Error = $"{entries[0].DisplayName}: no matching private key on this node, so no renewal request can be made here";
            }
            else
            {
                try
                {
                    csr.CsrDer = ByteString.CopyFrom(CertificateRequestBuilder.FromExistingCertificate(withKey.Certificate, key));
                }
                catch (PkiException e)
                {
                    csr.Error = $"{withKey.DisplayName}: {e.Message}";
                }
            }
            response.Csrs.Add(csr);
        }
        return response;
    }
}
