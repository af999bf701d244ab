using CertFleet.Pki.Systemd;
using CertFleet.Pki.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CertFleet.Pki.ComponentConfigs;

/// <summary>
/// A component-config file a unit names (kubelet's KubeletConfiguration, KubeProxyConfiguration,
/// KubeSchedulerConfiguration through --config; etcd's YAML through --config-file), read for the files it names and
/// the few settings CertFleet acts on. Every scalar is kept under its dotted key ("authentication.x509.clientCAFile",
/// "peer-transport-security.cert-file"); lists index their items ("profiles[0].name").
/// </summary>
public sealed class ComponentConfig
{
    /// <summary>A YAML file may alias one node many times (an alias bomb); each node is read once, and only so many.</summary>
    private const int MaxNodes = 100_000;

    private static readonly string[] PathExtensions = [".crt", ".pem", ".key", ".kubeconfig", ".conf", ".yaml", ".yml", ".json"];

    private readonly Dictionary<string, string> _scalars;

    private ComponentConfig(string path, string? kind, Dictionary<string, string> scalars)
    {
        Path = path;
        Kind = kind;
        _scalars = scalars;
    }

    /// <summary>The file, as on the node.</summary>
    public string Path { get; }

    /// <summary>Its <c>kind:</c> (KubeletConfiguration, ...); null for etcd's file, which has none.</summary>
    public string? Kind { get; }

    public IReadOnlyDictionary<string, string> Scalars => _scalars;

    /// <summary>Reads <paramref name="text"/>; a PkiException names the file and line when it is not a YAML mapping.</summary>
    public static ComponentConfig Parse(string text, string nodePath)
    {
        ArgumentNullException.ThrowIfNull(text);
        YamlStream stream;
        try
        {
            stream = BoundedYaml.Load(text.TrimStart('\uFEFF'), nodePath);
        }
        catch (YamlException e)
        {
            throw new PkiException($"{nodePath}: line {e.Start.Line}, column {e.Start.Column}: not valid YAML ({e.Message}); " +
                "the service cannot read it either: fix the file or restore it from a backup", e);
        }
        if (stream.Documents.Count == 0)
        {
            return new ComponentConfig(nodePath, null, []);
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new PkiException($"{nodePath}: line {stream.Documents[0].RootNode.Start.Line}: not a component configuration " +
                "(expected a YAML mapping of settings); fix the file or point the unit's --config at the right one");
        }
        var scalars = new Dictionary<string, string>(StringComparer.Ordinal);
        var visited = new HashSet<YamlNode>(ReferenceEqualityComparer.Instance);
        Collect(root, "", scalars, visited, nodePath);
        return new ComponentConfig(nodePath, scalars.GetValueOrDefault("kind"), scalars);
    }

    /// <summary>The value at a dotted key, or null.</summary>
    public string? Get(string key) => _scalars.GetValueOrDefault(key);

    /// <summary>A YAML boolean at a dotted key (true/false, and YAML 1.1's yes/no/on/off as sigs.k8s.io/yaml reads them), or null.</summary>
    public bool? GetBool(string key) => Get(key)?.ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "y" => true,
        "false" or "no" or "off" or "n" => false,
        _ => null,
    };

    /// <summary>
    /// The certificate, key, CA and kubeconfig files the file names, for <paramref name="unit"/>: keys the TLS name
    /// rule picks (the one flags are judged by) whose value is a path. A relative path is taken from the file's own
    /// folder, as the kubelet resolves its configuration's paths.
    /// </summary>
    public IReadOnlyList<UnitFileReference> FileReferences(string unit)
    {
        var found = new List<UnitFileReference>();
        foreach (var (key, value) in _scalars)
        {
            var leaf = key[(key.LastIndexOf('.') + 1)..];
            if (value.Length == 0 || !FileReferenceFinder.IsAboutTls(leaf))
            {
                continue;
            }
            string? path = value.StartsWith('/') ? value
                : PathExtensions.Any(e => value.EndsWith(e, StringComparison.OrdinalIgnoreCase)) && !value.Contains("://", StringComparison.Ordinal)
                    ? Files.NodePath.Normalize(Files.NodePath.Combine(System.IO.Path.GetDirectoryName(Path) ?? "/", value))
                    : null;
            if (path is not null)
            {
                found.Add(new UnitFileReference(unit, key, path) { Source = Path });
            }
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Setting, b.Setting));
        return found;
    }

    private static void Collect(YamlNode node, string key, Dictionary<string, string> scalars, HashSet<YamlNode> visited, string nodePath)
    {
        if (!visited.Add(node))
        {
            return;
        }
        if (visited.Count > MaxNodes)
        {
            throw new PkiException($"{nodePath}: more than {MaxNodes} YAML nodes; not a component configuration a service would use, " +
                "point the unit's --config at the right file");
        }
        switch (node)
        {
            case YamlScalarNode scalar when key.Length > 0:
                scalars.TryAdd(key, scalar.Value ?? "");
                break;
            case YamlMappingNode mapping:
                foreach (var (k, v) in mapping.Children)
                {
                    if (k is YamlScalarNode { Value: { Length: > 0 } name })
                    {
                        Collect(v, key.Length == 0 ? name : $"{key}.{name}", scalars, visited, nodePath);
                    }
                }
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Collect(sequence.Children[i], $"{key}[{i}]", scalars, visited, nodePath);
                }
                break;
        }
    }
}
