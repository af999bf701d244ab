using CertFleet.Testing;
using YamlDotNet.RepresentationModel;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>packaging/monitoring/certfleet-alerts.yml as shipped: its alerts' names and severities, and a copy for promtool.</summary>
internal static class ShippedRules
{
    public static string File => Path.Combine(SharedFixtures.RepositoryRoot, "packaging", "monitoring", "certfleet-alerts.yml");

    /// <summary>Each alert's name and its severity label, in file order.</summary>
    public static IReadOnlyList<(string Alert, string Severity)> Alerts()
    {
        var alerts = new List<(string, string)>();
        foreach (var rule in Rules(Load()))
        {
            var labels = (YamlMappingNode)rule.Children[new YamlScalarNode("labels")];
            alerts.Add((Scalar(rule, "alert"), Scalar(labels, "severity")));
        }
        return alerts;
    }

    /// <summary>
    /// The rules file without its annotations, written to <paramref name="path"/>. promtool compares an alert's
    /// annotations too, and they hold durations humanised from each certificate's exact time left; `promtool check
    /// rules` checks their templates on the shipped file, and the expressions, `for:` and labels tested are the same.
    /// </summary>
    public static void WriteWithoutAnnotations(string path)
    {
        var stream = Load();
        foreach (var rule in Rules(stream))
        {
            rule.Children.Remove(new YamlScalarNode("annotations"));
        }
        using var writer = new StreamWriter(path);
        stream.Save(writer, assignAnchors: false);
    }

    private static YamlStream Load()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(File);
        stream.Load(reader);
        return stream;
    }

    private static IEnumerable<YamlMappingNode> Rules(YamlStream stream)
    {
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        foreach (var group in ((YamlSequenceNode)root.Children[new YamlScalarNode("groups")]).Cast<YamlMappingNode>())
        {
            foreach (var rule in ((YamlSequenceNode)group.Children[new YamlScalarNode("rules")]).Cast<YamlMappingNode>())
            {
                yield return rule;
            }
        }
    }

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value!;
}
