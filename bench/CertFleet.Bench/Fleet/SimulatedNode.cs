using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Bench.Fleet;

/// <summary>
/// A worker's certificates held in memory: the kubelet's client certificate and kube-proxy's, each with its own EC
/// key. Reports them as the real agent's scan would, makes CSRs from its keys, and takes renewals in place.
/// </summary>
internal sealed class SimulatedNode
{
    private readonly object _gate = new();
    private readonly List<Held> _held;

    private SimulatedNode(string name, List<Held> held)
    {
        Name = name;
        _held = held;
    }

    public string Name { get; }

    public static SimulatedNode Create(string name, X509Certificate2 authority)
    {
        Held Make(string subject, string path, string unit)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var der = SyntheticPki.ClientCertificate(authority, subject, key, 20);
            var privateKey = PrivateKey.Parse(Pem.Read(key.ExportPkcs8PrivateKeyPem(), path)[0], path);
            return new Held(path, Path.ChangeExtension(path, ".key"), unit, privateKey) { Der = der };
        }
        return new SimulatedNode(name,
        [
            Make($"O=system:nodes, CN=system:node:{name}", "/var/lib/kubelet/pki/kubelet-client.crt", "kubelet.service"),
            Make("O=system:node-proxier, CN=system:kube-proxy", "/etc/kubernetes/pki/kube-proxy.crt", "kube-proxy.service"),
        ]);
    }

    public InventoryReport Report()
    {
        var report = new InventoryReport { TakenAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) };
        lock (_gate)
        {
            foreach (var held in _held)
            {
                report.Certificates.Add(new ReportedCertificate
                {
                    Der = ByteString.CopyFrom(held.Der),
                    Path = held.Path,
                    KeyPath = held.KeyPath,
                    KeyState = KeyState.Matches,
                    UsedBy = { held.Unit },
                    Owner = CertificateOwner.Certfleet,
                    IssuerPath = "/etc/kubernetes/pki/ca.crt",
                });
            }
        }
        return report;
    }

    public CsrResponse Csrs(CsrRequest request)
    {
        var response = new CsrResponse();
        foreach (var fingerprint in request.Fingerprints)
        {
            var held = Find(fingerprint);
            response.Csrs.Add(held is null
                ? new GeneratedCsr { Fingerprint = fingerprint, Error = "no such certificate on this node" }
                : new GeneratedCsr
                {
                    Fingerprint = fingerprint,
                    CsrDer = ByteString.CopyFrom(CertificateRequestBuilder.FromExistingCertificate(CertificateInfo.Parse(held.Der, held.Path), held.Key)),
                });
        }
        return response;
    }

    public StepResult Install(InstallRequest request)
    {
        var result = new StepResult { StepId = request.StepId, Ok = true };
        foreach (var replacement in request.Replacements)
        {
            if (Find(replacement.OldFingerprint) is { } held)
            {
                lock (_gate)
                {
                    held.Der = replacement.CertificateDer.ToByteArray();
                }
                result.ChangedFiles.Add(held.Path);
                if (!result.UnitsToRestart.Contains(held.Unit))
                {
                    result.UnitsToRestart.Add(held.Unit);
                }
            }
        }
        result.Message = $"installed {result.ChangedFiles.Count} certificate(s)";
        return result;
    }

    /// <summary>How many of the node's certificates expire after <paramref name="after"/> (renewed ones do).</summary>
    public int RenewedAfter(DateTimeOffset after)
    {
        lock (_gate)
        {
            return _held.Count(h => CertificateInfo.Parse(h.Der, h.Path).NotAfter > after);
        }
    }

    private Held? Find(string fingerprint)
    {
        lock (_gate)
        {
            return _held.FirstOrDefault(h => Convert.ToHexString(SHA256.HashData(h.Der)) == fingerprint);
        }
    }

    private sealed record Held(string Path, string KeyPath, string Unit, PrivateKey Key)
    {
        public required byte[] Der { get; set; }
    }
}
