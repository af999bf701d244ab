namespace CertFleet.Pki.ComponentConfigs;

/// <summary>
/// Where a component config holds what a command-line flag would: the one table that lets a question asked of a
/// unit by flag ("--tls-cert-file", "--cert-file") be answered from its --config or --config-file too.
/// </summary>
internal static class ComponentSettings
{
    private static readonly Dictionary<string, string> Kubelet = new(StringComparer.Ordinal)
    {
        ["tls-cert-file"] = "tlsCertFile",
        ["tls-private-key-file"] = "tlsPrivateKeyFile",
        ["client-ca-file"] = "authentication.x509.clientCAFile",
        ["rotate-certificates"] = "rotateCertificates",
        ["rotate-server-certificates"] = "serverTLSBootstrap",
        ["address"] = "address",
        ["port"] = "port",
    };

    private static readonly Dictionary<string, string> ClientConnection = new(StringComparer.Ordinal)
    {
        ["kubeconfig"] = "clientConnection.kubeconfig",
    };

    // etcd's --config-file keeps its TLS settings in two sections; every other key is the flag's name (etcd.conf.yml.sample)
    private static readonly Dictionary<string, string> Etcd = new(StringComparer.Ordinal)
    {
        ["cert-file"] = "client-transport-security.cert-file",
        ["key-file"] = "client-transport-security.key-file",
        ["trusted-ca-file"] = "client-transport-security.trusted-ca-file",
        ["client-cert-auth"] = "client-transport-security.client-cert-auth",
        ["auto-tls"] = "client-transport-security.auto-tls",
        ["peer-cert-file"] = "peer-transport-security.cert-file",
        ["peer-key-file"] = "peer-transport-security.key-file",
        ["peer-trusted-ca-file"] = "peer-transport-security.trusted-ca-file",
        ["peer-client-cert-auth"] = "peer-transport-security.client-cert-auth",
        ["peer-auto-tls"] = "peer-transport-security.auto-tls",
    };

    /// <summary>The key of <paramref name="config"/> that stands for <paramref name="flag"/> (dashes optional), or null.</summary>
    public static string? KeyFor(ComponentConfig config, string flag)
    {
        var name = flag.TrimStart('-');
        return config.Kind switch
        {
            "KubeletConfiguration" => Kubelet.GetValueOrDefault(name),
            "KubeProxyConfiguration" or "KubeSchedulerConfiguration" or "KubeControllerManagerConfiguration"
                => ClientConnection.GetValueOrDefault(name),
            null => Etcd.GetValueOrDefault(name) ?? name,
            _ => null,
        };
    }
}
