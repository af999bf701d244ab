using System.Globalization;
using CertFleet.Pki.Systemd;

namespace CertFleet.Agent.Gates;

/// <summary>Reads from a unit's flags and environment where it listens and which certificate file it serves there.</summary>
internal static class UnitTlsSettings
{
    /// <summary>A flag wins over its environment variable, as etcd's own flag parsing has it.</summary>
    public static string? Setting(SystemdUnit unit, string flag, string? variable = null) =>
        unit.GetSetting(flag) is { Length: > 0 } fromFlag ? fromFlag
        : variable is not null && unit.GetSetting(variable) is { Length: > 0 } fromEnv ? fromEnv
        : null;

    public static IReadOnlyList<Uri> Urls(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var url) ? url : null)
            .OfType<Uri>()
            .Where(u => u.Scheme == Uri.UriSchemeHttps)
            .ToList();

    public static Uri? EtcdClientUrl(SystemdUnit unit) =>
        Urls(Setting(unit, "--advertise-client-urls", "ETCD_ADVERTISE_CLIENT_URLS")).FirstOrDefault()
        ?? Urls(Setting(unit, "--listen-client-urls", "ETCD_LISTEN_CLIENT_URLS")).Select(Dialable).FirstOrDefault();

    public static Uri ApiServerUrl(SystemdUnit unit) =>
        new($"https://{HostFor(Setting(unit, "--advertise-address"))}:{Port(Setting(unit, "--secure-port"), 6443)}");

    public static IReadOnlyList<ServedEndpoint> Endpoints(SystemdUnit unit)
    {
        var endpoints = new List<ServedEndpoint>();
        if (UnitNames.IsEtcd(unit))
        {
            Add(endpoints, "etcd client", Setting(unit, "--cert-file", "ETCD_CERT_FILE"),
                Setting(unit, "--listen-client-urls", "ETCD_LISTEN_CLIENT_URLS"), Setting(unit, "--advertise-client-urls", "ETCD_ADVERTISE_CLIENT_URLS"));
            Add(endpoints, "etcd peer", Setting(unit, "--peer-cert-file", "ETCD_PEER_CERT_FILE"),
                Setting(unit, "--listen-peer-urls", "ETCD_LISTEN_PEER_URLS"), Setting(unit, "--initial-advertise-peer-urls", "ETCD_INITIAL_ADVERTISE_PEER_URLS"));
        }
        else if (UnitNames.IsApiServer(unit) && Setting(unit, "--tls-cert-file") is { } apiCertificate)
        {
            var url = ApiServerUrl(unit);
            endpoints.Add(new ServedEndpoint(url.Host, url.Port, apiCertificate, "kube-apiserver"));
        }
        else if (UnitNames.IsKubelet(unit))
        {
            var certificate = Setting(unit, "--tls-cert-file") ?? (Setting(unit, "--cert-dir") ?? "/var/lib/kubelet/pki") + "/kubelet.crt";
            var host = HostFor(Setting(unit, "--address") is { } address && address != "0.0.0.0" ? address : Setting(unit, "--node-ip"));
            endpoints.Add(new ServedEndpoint(host, Port(Setting(unit, "--port"), 10250), certificate, "kubelet"));
        }
        return endpoints;
    }

    private static void Add(List<ServedEndpoint> endpoints, string role, string? certificate, params string?[] lists)
    {
        if (certificate is null)
        {
            return;
        }
        foreach (var url in lists.SelectMany(Urls).Select(Dialable))
        {
            if (!endpoints.Any(e => e.Host == url.Host && e.Port == url.Port))
            {
                endpoints.Add(new ServedEndpoint(url.Host, url.Port, certificate, role));
            }
        }
    }

    /// <summary>A listen address of "any" is dialled on loopback.</summary>
    private static Uri Dialable(Uri url) => url.Host is "0.0.0.0" or "[::]" or "::"
        ? new UriBuilder(url) { Host = url.Host == "0.0.0.0" ? "127.0.0.1" : "[::1]" }.Uri
        : url;

    private static string HostFor(string? address) =>
        address is null or "" or "0.0.0.0" ? "127.0.0.1"
        : address is "::" ? "::1"
        : address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address;

    private static int Port(string? text, int fallback) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port : fallback;
}
