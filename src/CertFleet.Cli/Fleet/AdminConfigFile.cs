using System.Text;
using CertFleet.Pki;
using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// The CLI's credentials for a coordinator: &lt;state-dir&gt;/admin.conf as the coordinator wrote it, in kubeconfig
/// format (server URL, fleet CA, admin certificate and key). Found from --config, then $CERTFLEET_CONFIG, then
/// /etc/certfleet/admin.conf. Refused when others can read it: it holds the key to the whole fleet. Its server may be
/// a coordinator group: every coordinator's URL, separated by commas, tried in that order.
/// </summary>
internal sealed record AdminConfigFile(string Path, IReadOnlyList<Uri> Servers, string CaPem, string CertificatePem, string KeyPem)
{
    public const string DefaultPath = "/etc/certfleet/admin.conf";

    public const string EnvironmentVariable = "CERTFLEET_CONFIG";

    public static string Locate(string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return option;
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? DefaultPath : fromEnvironment;
    }

    public static AdminConfigFile Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new PkiException($"{path}: no such file; pass --config with the admin.conf the coordinator wrote in its "
                + $"--state-dir, or set ${EnvironmentVariable} (renew and verify also work on this machine alone with --local)");
        }
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) != 0)
        {
            throw new PkiException($"{path}: readable by others (mode {Convert.ToString((int)mode, 8)}); it holds the fleet's "
                + $"admin key: run 'chmod 600 {path}'");
        }
        var kubeconfig = Kubeconfig.Parse(File.ReadAllText(path), path);
        var cluster = kubeconfig.Clusters.FirstOrDefault()
            ?? throw new PkiException($"{path}: no cluster entry; use the admin.conf the coordinator wrote");
        var user = kubeconfig.Users.FirstOrDefault()
            ?? throw new PkiException($"{path}: no user entry; use the admin.conf the coordinator wrote");
        var servers = CoordinatorUrls.Parse(cluster.Server, $"{path}: server");
        return new AdminConfigFile(path, servers,
            Data(path, cluster.CertificateAuthorityData, "certificate-authority-data"),
            Data(path, user.ClientCertificateData, "client-certificate-data"),
            Data(path, user.ClientKeyData, "client-key-data"));
    }

    private static string Data(string path, KubeconfigValue? value, string key) =>
        value is null || value.Text.Length == 0
            ? throw new PkiException($"{path}: {key} is missing; use the admin.conf the coordinator wrote")
            : Encoding.UTF8.GetString(Kubeconfig.DecodeData(value, path));
}
