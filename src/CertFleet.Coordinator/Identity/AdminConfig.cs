using System.Text;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Coordinator.Identity;

/// <summary>
/// The CLI's config, &lt;state-dir&gt;/admin.conf: a kubeconfig (operators recognise the format) holding the
/// coordinator URL, the fleet CA and the admin client credential. Mode 0600: it is a key.
/// </summary>
public static class AdminConfig
{
    public const string ClusterName = "certfleet";
    public const string UserName = "certfleet-admin";
    public const string ContextName = "certfleet-admin@certfleet";

    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Write(string path, string url, string caPem, string certPem, string keyPem)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var text = $$"""
            # certfleet admin credential: use with `certfleet --config {{Path.GetFileName(path)}} status`. Keep it secret (0600).
            apiVersion: v1
            kind: Config
            clusters:
            - name: {{ClusterName}}
              cluster:
                server: {{url}}
                certificate-authority-data: {{Data(caPem)}}
            users:
            - name: {{UserName}}
              user:
                client-certificate-data: {{Data(certPem)}}
                client-key-data: {{Data(keyPem)}}
            contexts:
            - name: {{ContextName}}
              context:
                cluster: {{ClusterName}}
                user: {{UserName}}
            current-context: {{ContextName}}
            preferences: {}

            """;
        AtomicFile.Replace(path, Encoding.UTF8.GetBytes(text));
        // AtomicFile keeps the mode of a file it replaces; this one must be 0600 whatever was there
        File.SetUnixFileMode(path, Mode);
    }

    /// <summary>True when the file is missing or names another server (the listen address changed).</summary>
    internal static bool NeedsWrite(string path, string url)
    {
        if (!File.Exists(path))
        {
            return true;
        }
        try
        {
            return Kubeconfig.Parse(File.ReadAllText(path), path).Clusters.FirstOrDefault()?.Server != url;
        }
        catch (PkiException)
        {
            // an operator's edit broke it: write a good one rather than refuse to start
            return true;
        }
    }

    private static string Data(string pem) => Kubeconfig.EncodeData(Encoding.ASCII.GetBytes(pem));
}
