using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace CertFleet.Testing.Guides;

/// <summary>One certificate as the oracle sees it: where it is and what openssl says of it.</summary>
public sealed record OracleCertificate(
    string Path, string? KubeconfigUser, string? KubeconfigCluster, string Pem, string Serial, string Subject, DateTimeOffset NotAfter)
{
    public override string ToString() =>
        KubeconfigUser is not null ? $"{Path} (user {KubeconfigUser})"
        : KubeconfigCluster is not null ? $"{Path} (cluster {KubeconfigCluster})" : Path;
}

/// <summary>
/// The oracle for "every certificate on the node": every file under the node's folder (no list of places), PEM
/// blocks read by openssl, kubeconfigs' *-data fields by a YAML parser. Symlinks are not followed (their targets are
/// walked as files); folders given as excluded and CertFleet's own backups are left out.
/// </summary>
public static partial class NodeCertificates
{
    public static IReadOnlyList<OracleCertificate> Walk(string root, IEnumerable<string> excludedFolders)
    {
        var excluded = excludedFolders.Append("/var/lib/certfleet").ToList();
        var found = new List<OracleCertificate>();
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var onNode = "/" + Path.GetRelativePath(root, file);
            if (new FileInfo(file).LinkTarget is not null || excluded.Any(f => onNode.StartsWith(f + "/", StringComparison.Ordinal))
                || new FileInfo(file).Length > 1 << 20)
            {
                continue;
            }
            var text = File.ReadAllText(file);
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                found.AddRange(Blocks(text).Select(pem => Read(pem, onNode, null, null)));
            }
            else if (KubeconfigData(text) is { } data)
            {
                foreach (var (user, cluster, pem) in data)
                {
                    found.AddRange(Blocks(pem).Select(block => Read(block, onNode, user, cluster)));
                }
            }
        }
        return found;
    }

    /// <summary>openssl's words for the subject, extensions and public key: what a renewal must keep.</summary>
    public static string Identity(string pem) =>
        ProcessRunner.Run("openssl", ["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-pubkey", "-ext",
            "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints,subjectKeyIdentifier"], standardInput: pem).StandardOutput;

    private static OracleCertificate Read(string pem, string path, string? user, string? cluster)
    {
        var output = ProcessRunner.Run("openssl", ["x509", "-noout", "-serial", "-subject", "-nameopt", "RFC2253", "-enddate"], standardInput: pem);
        if (output.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl cannot read a certificate of {path}: {output.Combined}");
        }
        string Field(string prefix) => output.StandardOutput.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..].Trim();
        var notAfter = DateTimeOffset.ParseExact(Field("notAfter="), "MMM d HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture,
            DateTimeStyles.AllowInnerWhite | DateTimeStyles.AssumeUniversal);
        return new OracleCertificate(path, user, cluster, pem, Field("serial="), Field("subject="), notAfter);
    }

    private static IEnumerable<string> Blocks(string text) =>
        CertificateBlock().Matches(text).Select(m => m.Value + "\n");

    /// <summary>The PEM text of every users[].user.client-certificate-data and clusters[].cluster.certificate-authority-data.</summary>
    private static List<(string? User, string? Cluster, string Pem)>? KubeconfigData(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return null;
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return null;
        }
        var result = new List<(string?, string?, string)>();
        foreach (var (list, body, field) in new[] { ("users", "user", "client-certificate-data"), ("clusters", "cluster", "certificate-authority-data") })
        {
            if (!root.Children.TryGetValue(new YamlScalarNode(list), out var entries) || entries is not YamlSequenceNode sequence)
            {
                continue;
            }
            foreach (var entry in sequence.Children.OfType<YamlMappingNode>())
            {
                var name = entry.Children.TryGetValue(new YamlScalarNode("name"), out var n) ? ((YamlScalarNode)n).Value : null;
                if (entry.Children.TryGetValue(new YamlScalarNode(body), out var b) && b is YamlMappingNode mapping
                    && mapping.Children.TryGetValue(new YamlScalarNode(field), out var value) && value is YamlScalarNode { Value: { Length: > 0 } data })
                {
                    var pem = Encoding.UTF8.GetString(Convert.FromBase64String(data));
                    result.Add(list == "users" ? (name, null, pem) : (null, name, pem));
                }
            }
        }
        return result;
    }

    [GeneratedRegex("-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----")]
    private static partial Regex CertificateBlock();
}
