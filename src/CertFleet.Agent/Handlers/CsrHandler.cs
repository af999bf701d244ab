using CertFleet.Agent.Gates;
using CertFleet.Pki;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Text;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>CsrRequest: a renewal CSR per fingerprint, signed on the node by the certificate's own key.</summary>
internal sealed partial class CsrHandler(NodeAccess node, GateKeys gateKeys, ILogger<CsrHandler> logger)
{
    public CsrResponse Handle(CsrRequest request)
    {
        if (request.ProbeForStep.Length > 0)
        {
            // a re-key gate's throwaway key: nothing on the node is signed or changed
            return new CsrResponse { Csrs = { new GeneratedCsr { Fingerprint = "probe", CsrDer = ByteString.CopyFrom(gateKeys.MakeCsr(request.ProbeForStep)) } } };
        }
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
                csr.Error = $"no certificate with fingerprint {Sha256Text.FormatFingerprint(fingerprint)} on this node (it may have been replaced since the last report)";
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
            if (csr.Error.Length > 0)
            {
                Log.NotMade(logger, Sha256Text.FormatFingerprint(fingerprint), csr.Error);
            }
            response.Csrs.Add(csr);
        }
        Log.Made(logger, response.Csrs.Count(c => c.Error.Length == 0), response.Csrs.Count);
        return response;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 420, Level = LogLevel.Information, Message = "Renewal requests: {Made} of {Asked} made with the certificates' own keys")]
        public static partial void Made(ILogger logger, int made, int asked);

        [LoggerMessage(EventId = 421, Level = LogLevel.Warning, Message = "No renewal request for {Fingerprint}: {Reason}")]
        public static partial void NotMade(ILogger logger, string fingerprint, string reason);
    }
}
