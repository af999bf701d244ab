using CertFleet.Pki.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CertFleet.Pki.Kubeconfigs;

/// <summary>
/// Reads the clusters and users of a kubeconfig from YamlDotNet's representation model (no reflection, so it
/// survives NativeAOT), keeping each certificate field's position in the text for a later in-place rewrite.
/// </summary>
internal sealed class KubeconfigReader(string text, string sourceName)
{
    private const string Advice = "fix the file or restore it from a backup";

    // YamlDotNet reads a byte order mark as part of the first key; parse without it and shift positions back.
    private readonly int _bom = text.StartsWith('\uFEFF') ? 1 : 0;

    public YamlMappingNode LoadRoot()
    {
        YamlStream stream;
        try
        {
            stream = BoundedYaml.Load(text[_bom..], sourceName);
        }
        catch (YamlException e)
        {
            var (line, column) = e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase)
                ? FirstTabIndentation((int)e.Start.Line) ?? ((int)e.Start.Line, (int)e.Start.Column)
                : ((int)e.Start.Line, (int)e.Start.Column);
            throw new PkiException($"{sourceName}: line {line}, column {column}: not valid YAML ({e.Message}); {Advice}", e);
        }
        if (stream.Documents.Count == 0)
        {
            throw new PkiException($"{sourceName}: line 1: empty, not a kubeconfig; {Advice}");
        }
        var root = stream.Documents[0].RootNode;
        if (root is not YamlMappingNode mapping)
        {
            throw Invalid(root, $"not a kubeconfig (the document is a {Describe(root)}, expected a mapping with " +
                "clusters, users and kind: Config)");
        }
        var kind = Child(mapping, "kind");
        if (kind is not null && ScalarValue(kind, "kind") is { } kindValue && kindValue != "Config")
        {
            throw Invalid(kind, $"not a kubeconfig (kind: {kindValue}, expected kind: Config)");
        }
        if (kind is null && (Child(mapping, "clusters") is null || Child(mapping, "users") is null))
        {
            throw Invalid(root, "not a kubeconfig (no kind: Config and no clusters: and users: lists)");
        }
        return mapping;
    }

    // YamlDotNet reports a tab in the indentation at the start of the enclosing mapping; point at the tab itself.
    private (int Line, int Column)? FirstTabIndentation(int fromLine)
    {
        var number = 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            number++;
            var indentation = line.Length - line.TrimStart(" \t").Length;
            var tab = line[..indentation].IndexOf('\t');
            if (number >= fromLine && tab >= 0)
            {
                return (number, tab + 1);
            }
        }
        return null;
    }

    public IReadOnlyList<KubeconfigUser> ReadUsers(YamlMappingNode root) =>
        Entries(root, "users", "user")
            .Select(entry => new KubeconfigUser(
                entry.Name,
                Value(entry.Body, "client-certificate"),
                Value(entry.Body, "client-certificate-data"),
                Value(entry.Body, "client-key"),
                Value(entry.Body, "client-key-data")))
            .ToList();

    public IReadOnlyList<KubeconfigCluster> ReadClusters(YamlMappingNode root) =>
        Entries(root, "clusters", "cluster")
            .Select(entry => new KubeconfigCluster(
                entry.Name,
                entry.Body is not null && Child(entry.Body, "server") is { } server ? ScalarValue(server, "server") : null,
                Value(entry.Body, "certificate-authority"),
                Value(entry.Body, "certificate-authority-data")))
            .ToList();

    private IEnumerable<(string Name, YamlMappingNode? Body)> Entries(YamlMappingNode root, string listKey, string bodyKey)
    {
        var list = Child(root, listKey);
        if (list is null || IsNull(list))
        {
            yield break;
        }
        if (list is not YamlSequenceNode sequence)
        {
            throw Invalid(list, $"{listKey}: is a {Describe(list)}, expected a list of entries with name: and {bodyKey}:");
        }
        foreach (var item in sequence.Children)
        {
            if (item is not YamlMappingNode entry)
            {
                throw Invalid(item, $"an entry of {listKey}: is a {Describe(item)}, expected name: and {bodyKey}:");
            }
            var nameNode = Child(entry, "name") ?? throw Invalid(entry, $"an entry of {listKey}: has no name:");
            var name = ScalarValue(nameNode, "name") ?? "";
            var body = Child(entry, bodyKey);
            if (body is not null && !IsNull(body) && body is not YamlMappingNode)
            {
                throw Invalid(body, $"{bodyKey}: of '{name}' is a {Describe(body)}, expected a mapping");
            }
            yield return (name, body as YamlMappingNode);
        }
    }

    private KubeconfigValue? Value(YamlMappingNode? body, string key)
    {
        if (body is null || Child(body, key) is not { } node)
        {
            return null;
        }
        if (node is not YamlScalarNode scalar)
        {
            throw Invalid(node, $"{key}: is a {Describe(node)}, expected a path or base64 text");
        }
        var end = (int)scalar.End.Index + _bom;
        var start = SkipProperties((int)scalar.Start.Index + _bom, end);
        var value = IsNull(scalar) ? "" : scalar.Value ?? "";
        return new KubeconfigValue(key, value, start, end);
    }

    // An anchor (&a) or tag (!!str) before the value belongs to the document, not to the value: keep it on rewrite.
    private int SkipProperties(int start, int end)
    {
        while (start < end && text[start] is '&' or '!')
        {
            while (start < end && !char.IsWhiteSpace(text[start]))
            {
                start++;
            }
            while (start < end && char.IsWhiteSpace(text[start]))
            {
                start++;
            }
        }
        return start;
    }

    private string? ScalarValue(YamlNode node, string key) => node switch
    {
        YamlScalarNode scalar when IsNull(scalar) => null,
        YamlScalarNode scalar => scalar.Value,
        _ => throw Invalid(node, $"{key}: is a {Describe(node)}, expected a single value"),
    };

    private static YamlNode? Child(YamlMappingNode mapping, string key)
    {
        foreach (var (k, v) in mapping.Children)
        {
            if (k is YamlScalarNode { Value: var name } && name == key)
            {
                return v;
            }
        }
        return null;
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        YamlScalarNode => "single value",
        _ => "YAML node",
    };

    private PkiException Invalid(YamlNode node, string what) =>
        new($"{sourceName}: line {node.Start.Line}: {what}; {Advice}");
}
