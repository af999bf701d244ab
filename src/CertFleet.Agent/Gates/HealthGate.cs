using CertFleet.Agent.Handlers;
using CertFleet.Agent.Options;
using CertFleet.Pki;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Systemd;

namespace CertFleet.Agent.Gates;

/// <summary>
/// After a restart: polls the unit's health probe until healthy or the timeout, then checks that every TLS endpoint
/// it serves presents the certificate now on disk. --health-command replaces all of it: the operator owns gating.
/// </summary>
internal sealed class HealthGate(AgentOptions options, NodeAccess node, TimeProvider time)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public async Task<ProbeResult> WaitAsync(string unit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var disposables = new List<IDisposable>();
        try
        {
            IHealthProbe probe;
            IReadOnlyList<ServedEndpoint> endpoints;
            try
            {
                (probe, endpoints) = Choose(unit, disposables);
            }
            catch (PkiException e)
            {
                return new ProbeResult(false, $"{unit}: cannot set up its health probe: {e.Message}");
            }
            var deadline = time.GetUtcNow() + timeout;
            var health = await PollAsync(probe.ProbeAsync, deadline, cancellationToken);
            if (!health.Healthy)
            {
                return new ProbeResult(false, $"{unit} not healthy within {timeout.TotalSeconds:0} s; last probe: {health.Output}");
            }
            if (endpoints.Count == 0)
            {
                return health;
            }
            var served = await PollAsync(ct => EndpointCheck.RunAsync(node.Root, endpoints, ct), deadline, cancellationToken);
            return served.Healthy
                ? new ProbeResult(true, $"{health.Output}\n{served.Output}")
                : new ProbeResult(false, $"{unit} is healthy but does not serve the certificate on disk:\n{served.Output}");
        }
        finally
        {
            disposables.ForEach(d => d.Dispose());
        }
    }

    private async Task<ProbeResult> PollAsync(Func<CancellationToken, Task<ProbeResult>> probe, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await probe(cancellationToken);
            if (result.Healthy || time.GetUtcNow() >= deadline)
            {
                return result;
            }
            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private (IHealthProbe Probe, IReadOnlyList<ServedEndpoint> Endpoints) Choose(string unit, List<IDisposable> disposables)
    {
        if (options.HealthCommand is { } command)
        {
            return (new CommandProbe(ShellCommand.ForUnit(command, unit)), []);
        }
        using var inventory = node.Scan();
        var found = UnitNames.Find(inventory, unit);
        if (found is null)
        {
            return (IsActive(unit), []);
        }
        var endpoints = UnitTlsSettings.Endpoints(found);
        if (UnitNames.IsEtcd(found))
        {
            return (EtcdProbe(inventory, found, disposables), endpoints);
        }
        if (UnitNames.IsApiServer(found))
        {
            var ca = UnitTlsSettings.Setting(found, "--client-ca-file")
                ?? throw new PkiException($"{found.Name} names no --client-ca-file to trust its /livez with");
            var authorities = NodeTls.Authorities(node.Root, ca);
            disposables.AddRange(authorities);
            return (new ApiServerLivezProbe(UnitTlsSettings.ApiServerUrl(found), authorities), endpoints);
        }
        return (IsActive(found.Name), endpoints);
    }

    private EtcdHealthProbe EtcdProbe(NodeInventory inventory, SystemdUnit etcd, List<IDisposable> disposables)
    {
        var url = UnitTlsSettings.EtcdClientUrl(etcd)
            ?? throw new PkiException($"{etcd.Name}: no https client URL in ETCD_ADVERTISE_CLIENT_URLS or --advertise-client-urls");
        var ca = UnitTlsSettings.Setting(etcd, "--trusted-ca-file", "ETCD_TRUSTED_CA_FILE")
            ?? throw new PkiException($"{etcd.Name}: no ETCD_TRUSTED_CA_FILE or --trusted-ca-file to trust the member with");
        // The node's own etcd client identity: what the apiserver on this node uses, else the member's server pair.
        var apiserver = inventory.Units.FirstOrDefault(UnitNames.IsApiServer);
        var (certificate, key) = apiserver is not null
            && UnitTlsSettings.Setting(apiserver, "--etcd-certfile") is { } apiCertificate
            && UnitTlsSettings.Setting(apiserver, "--etcd-keyfile") is { } apiKey
                ? (apiCertificate, apiKey)
                : (UnitTlsSettings.Setting(etcd, "--cert-file", "ETCD_CERT_FILE"), UnitTlsSettings.Setting(etcd, "--key-file", "ETCD_KEY_FILE"));
        if (certificate is null || key is null)
        {
            throw new PkiException($"{etcd.Name}: no client certificate for its /health (neither kube-apiserver's --etcd-certfile nor ETCD_CERT_FILE)");
        }
        var client = NodeTls.ClientCertificate(node.Root, certificate, key);
        disposables.Add(client);
        var authorities = NodeTls.Authorities(node.Root, ca);
        disposables.AddRange(authorities);
        return new EtcdHealthProbe(url, authorities, client);
    }

    private static CommandProbe IsActive(string unit) => new($"systemctl is-active {unit}");
}
