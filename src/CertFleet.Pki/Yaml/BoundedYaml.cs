using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace CertFleet.Pki.Yaml;

/// <summary>
/// Every YAML file CertFleet reads (component configs, kubeconfigs) is loaded here. YamlDotNet's representation model
/// recurses once per nesting level and hashes mapping keys recursively, so a few hundred kilobytes of brackets, or an
/// 11-byte key that contains itself (<c>? &amp;a [*a]</c>), overflow the stack: an uncatchable crash that would take
/// the CLI down and leave the agent crash-looping. The text is first walked with YamlDotNet's event parser (which keeps
/// its own stack and does not recurse) and refused, as a named error, unless it is shaped like a real config.
/// </summary>
internal static class BoundedYaml
{
    /// <summary>Real component configs and kubeconfigs are a few kilobytes; a kubeconfig with many contexts, tens.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>KubeletConfiguration nests 4 levels, a kubeconfig 4; this leaves room for any real file.</summary>
    public const int MaxDepth = 64;

    private const string NotReal = "not a real component config or kubeconfig, left alone: fix the file or restore it from a backup";

    /// <summary>
    /// The documents of <paramref name="text"/>. A <see cref="YamlException"/> (the text is not YAML) is left to the
    /// caller, which knows how to word it; a shape no real config has, or any other failure of the parser, is a
    /// <see cref="PkiException"/> naming <paramref name="sourceName"/>.
    /// </summary>
    public static YamlStream Load(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxChars)
        {
            throw new PkiException($"{sourceName}: {text.Length} characters of YAML, more than {MaxChars}; {NotReal}");
        }
        CheckShape(text, sourceName);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (Exception e) when (e is not YamlException and not OutOfMemoryException)
        {
            // a parser bug reached by crafted input must cost this one file, never the scan
            throw new PkiException($"{sourceName}: YAML that CertFleet cannot read ({e.GetType().Name}: {e.Message}); {NotReal}", e);
        }
        return stream;
    }

    /// <summary>One pass over the parser's events: nesting depth, collections as keys, aliases inside what they name.</summary>
    private static void CheckShape(string text, string sourceName)
    {
        var open = new Stack<Frame>();
        var collectionAnchors = new HashSet<string>(StringComparer.Ordinal);
        var parser = new Parser(new StringReader(text));
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (current is MappingEnd or SequenceEnd)
                {
                    open.Pop();
                    continue;
                }
                if (current is AnchorAlias alias)
                {
                    var name = alias.Value.Value;
                    // the alias stands for a node still being read: a loop YamlDotNet follows until the stack runs out
                    if (open.Any(f => f.Anchor == name))
                    {
                        throw Refused(sourceName, alias, $"the alias *{name} is inside the node it names (a loop)");
                    }
                    if (open.TryPeek(out var holder) && holder.TakeIsKey() && collectionAnchors.Contains(name))
                    {
                        throw Refused(sourceName, alias, KeyIsCollection);
                    }
                    continue;
                }
                if (current is not NodeEvent node)
                {
                    continue; // stream and document boundaries, comments
                }
                if (open.TryPeek(out var parent) && parent.TakeIsKey() && node is MappingStart or SequenceStart)
                {
                    // hashing such a key recurses through it, exponentially so when it is built of aliases
                    throw Refused(sourceName, node, KeyIsCollection);
                }
                if (node is MappingStart or SequenceStart)
                {
                    if (open.Count >= MaxDepth)
                    {
                        throw Refused(sourceName, node, $"YAML nested deeper than {MaxDepth} levels");
                    }
                    var anchor = node.Anchor.IsEmpty ? null : node.Anchor.Value;
                    if (anchor is not null)
                    {
                        collectionAnchors.Add(anchor);
                    }
                    open.Push(new Frame(node is MappingStart, anchor));
                }
                else if (!node.Anchor.IsEmpty)
                {
                    collectionAnchors.Remove(node.Anchor.Value); // a scalar re-uses the name
                }
            }
        }
        catch (Exception e) when (e is not YamlException and not PkiException and not OutOfMemoryException)
        {
            throw new PkiException($"{sourceName}: YAML that CertFleet cannot read ({e.GetType().Name}: {e.Message}); {NotReal}", e);
        }
    }

    private const string KeyIsCollection = "a list or mapping is used as a mapping key";

    private static PkiException Refused(string sourceName, ParsingEvent at, string what) =>
        new($"{sourceName}: line {at.Start.Line}: {what}; {NotReal}");

    /// <summary>An open mapping or list; in a mapping, nodes alternate between key and value.</summary>
    private sealed class Frame(bool isMapping, string? anchor)
    {
        private bool _nextIsKey = true;

        public string? Anchor { get; } = anchor;

        public bool TakeIsKey()
        {
            if (!isMapping)
            {
                return false;
            }
            var isKey = _nextIsKey;
            _nextIsKey = !_nextIsKey;
            return isKey;
        }
    }
}
