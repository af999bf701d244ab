using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Gates;
using CertFleet.Pki;
using CertFleet.Pki.Systemd;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// GateRequest: after a re-key phase, proves that this master's etcd and kube-apiserver accept (or, after retire,
/// refuse) a client of each CA: an HTTPS request to etcd's /health and the apiserver's /livez with each short-lived
/// client certificate and this step's throwaway key (<see cref="GateKeys"/>). Accepted means the TLS handshake took the
/// certificate (any HTTP answer); an endpoint nothing listens on is reported, not probed.
/// </summary>
internal sealed partial class GateHandler(NodeAccess node, GateKeys keys, ILogger<GateHandler> logger)
{
    public async Task<StepResult> HandleAsync(GateRequest request, CancellationToken cancellationToken)
    {
        var result = new StepResult { StepId = request.StepId };
        using var key = keys.Take(request.StepId);
        if (key is null)
        {
            result.Message = "the gate's probe key is not in this agent's memory (it restarted since the CSR was made); the step is sent again on resume";
            return result;
        }
        List<(string Name, Uri Url, X509Certificate2Collection Trusted)> endpoints;
        try
        {
            endpoints = Endpoints();
        }
        catch (PkiException e)
        {
            result.Message = $"cannot read the endpoints to probe: {e.Message}";
            return result;
        }
        var lines = new List<string>();
        var failures = new List<string>();
        try
        {
            foreach (var (name, url, trusted) in endpoints)
            {
                foreach (var client in request.Clients.Where(c => Concerns(trusted, c)))
                {
                    using var bare = X509CertificateLoader.LoadCertificate(client.CertificateDer.ToByteArray());
                    using var certificate = bare.CopyWithPrivateKey(key);
                    var (status, _, error) = await HttpsProbe.GetAsync(url, trusted, certificate, cancellationToken);
                    if (error is not null && error.Contains("Connection refused", StringComparison.OrdinalIgnoreCase))
                    {
                        lines.Add($"{name} {url}: nothing listens there; not probed");
                        break;
                    }
                    var accepted = error is null;
                    var line = $"{name} {url}: {client.Label} {(accepted ? $"accepted (HTTP {status})" : $"refused ({error})")}";
                    lines.Add(line);
                    if (accepted != client.ExpectAccepted)
                    {
                        failures.Add($"{line}, expected {(client.ExpectAccepted ? "accepted" : "refused")}");
                    }
                }
            }
        }
        catch (CryptographicException e)
        {
            failures.Add($"a gate client certificate is unusable ({e.Message})");
        }
        result.ProbeOutput = string.Join("\n", lines);
        result.Ok = failures.Count == 0;
        result.Message = failures.Count > 0 ? "gate failed: " + string.Join("; ", failures)
            : lines.Count == 0 ? "nothing to probe here (no etcd or kube-apiserver unit trusting a re-keyed CA)"
            : $"{lines.Count} probe(s) as expected";
        Log.Gate(logger, request.StepId, result.Ok, result.Message);
        return result;
    }

    private List<(string, Uri, X509Certificate2Collection)> Endpoints()
    {
        using var inventory = node.Scan();
        var found = new List<(string, Uri, X509Certificate2Collection)>();
        foreach (var unit in inventory.Units)
        {
            if (UnitNames.IsEtcd(unit) && UnitTlsSettings.EtcdClientUrl(unit) is { } etcd
                && UnitTlsSettings.Setting(unit, "--trusted-ca-file", "ETCD_TRUSTED_CA_FILE") is { } etcdCa)
            {
                found.Add((unit.Name, new Uri(etcd, "/health"), NodeTls.Authorities(node.Root, etcdCa)));
            }
            else if (UnitNames.IsApiServer(unit) && UnitTlsSettings.Setting(unit, "--client-ca-file") is { } clientCa)
            {
                found.Add((unit.Name, new Uri(UnitTlsSettings.ApiServerUrl(unit), "/livez"), NodeTls.Authorities(node.Root, clientCa)));
            }
        }
        return found;
    }

    /// <summary>The endpoint trusts (or trusted) this client's CA pair: its trusted CA file holds the old or the new CA.</summary>
    private static bool Concerns(X509Certificate2Collection trusted, GateClient client) =>
        trusted.Any(t => t.RawData.AsSpan().SequenceEqual(client.OldCaDer.Span) || t.RawData.AsSpan().SequenceEqual(client.NewCaDer.Span));

    private static partial class Log
    {
        [LoggerMessage(EventId = 610, Level = LogLevel.Information, Message = "Gate step {StepId}, ok={Ok}: {Message}")]
        public static partial void Gate(ILogger logger, string stepId, bool ok, string message);
    }
}
