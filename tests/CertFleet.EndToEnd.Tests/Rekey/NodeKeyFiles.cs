using YamlDotNet.RepresentationModel;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// The private keys on a node: every file holding a PEM private key and no certificate (a combined cert+key file
/// changes with its certificate), and every kubeconfig user's client-key-data, by where they are on the node.
/// </summary>
internal static class NodeKeyFiles
{
    /// <summary>Folders with no key or certificate in them (etcd's data, logs, pid files), and CertFleet's backups.</summary>
    public static readonly string[] NotScanned = ["/var/lib/etcd", "/var/log", "/run", "/var/lib/certfleet"];

    /// <summary>Path on the node → the file's bytes; for a kubeconfig, "path (user U)" → its client-key-data text.</summary>
    public static IReadOnlyDictionary<string, byte[]> Read(string root)
    {
        var keys = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var onNode = "/" + Path.GetRelativePath(root, file);
            var info = new FileInfo(file);
            if (info.LinkTarget is not null || info.Length > 1 << 20 || NotScanned.Any(f => onNode.StartsWith(f + "/", StringComparison.Ordinal)))
            {
                continue;
            }
            var text = File.ReadAllText(file);
            if (text.Contains("PRIVATE KEY-----", StringComparison.Ordinal) && !text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                keys[onNode] = File.ReadAllBytes(file);
            }
            else if (text.Contains("client-key-data", StringComparison.Ordinal))
            {
                foreach (var (user, data) in ClientKeyData(text))
                {
                    keys[$"{onNode} (user {user})"] = System.Text.Encoding.ASCII.GetBytes(data);
                }
            }
        }
        return keys;
    }

    private static IEnumerable<(string User, string Data)> ClientKeyData(string kubeconfig)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(kubeconfig));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        foreach (var entry in ((YamlSequenceNode)root["users"]).Children.OfType<YamlMappingNode>())
        {
            if (entry["user"] is YamlMappingNode user && user.Children.TryGetValue(new YamlScalarNode("client-key-data"), out var data))
            {
                yield return (((YamlScalarNode)entry["name"]).Value!, ((YamlScalarNode)data).Value!);
            }
        }
    }
}
