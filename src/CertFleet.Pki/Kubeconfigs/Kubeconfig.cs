using System.Text;

namespace CertFleet.Pki.Kubeconfigs;

/// <summary>
/// A kubeconfig file read for its certificate fields. The document is never re-serialized: a rewrite replaces
/// the text of the changed values only, so the comments, key order and quoting a user wrote survive.
/// </summary>
public sealed class Kubeconfig
{
    private readonly string _sourceName;
    private readonly HashSet<KubeconfigValue> _values;

    private Kubeconfig(string text, string sourceName, IReadOnlyList<KubeconfigUser> users,
        IReadOnlyList<KubeconfigCluster> clusters)
    {
        Text = text;
        _sourceName = sourceName;
        Users = users;
        Clusters = clusters;
        _values =
        [
            .. users.SelectMany(u => new[] { u.ClientCertificate, u.ClientCertificateData, u.ClientKey, u.ClientKeyData })
                .OfType<KubeconfigValue>(),
            .. clusters.SelectMany(c => new[] { c.CertificateAuthority, c.CertificateAuthorityData })
                .OfType<KubeconfigValue>(),
        ];
    }

    public string Text { get; }

    public IReadOnlyList<KubeconfigUser> Users { get; }

    public IReadOnlyList<KubeconfigCluster> Clusters { get; }

    /// <summary>Reads <paramref name="text"/>; a PkiException names the file and line when it is not a kubeconfig.</summary>
    public static Kubeconfig Parse(string text, string sourceName)
    {
        var reader = new KubeconfigReader(text, sourceName);
        var root = reader.LoadRoot();
        return new Kubeconfig(text, sourceName, reader.ReadUsers(root), reader.ReadClusters(root));
    }

    /// <summary>
    /// A cheap line-based check used while scanning folders: a top-level <c>kind: Config</c>, or both
    /// <c>clusters:</c> and <c>users:</c> at the top level. Never throws.
    /// </summary>
    public static bool LooksLikeKubeconfig(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        bool clusters = false, users = false;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.TrimStart('\uFEFF').TrimEnd();
            if (line.StartsWith("clusters:", StringComparison.Ordinal))
            {
                clusters = true;
            }
            else if (line.StartsWith("users:", StringComparison.Ordinal))
            {
                users = true;
            }
            else if (line.StartsWith("kind:", StringComparison.Ordinal) && IsConfigKind(line["kind:".Length..]))
            {
                return true;
            }
        }
        return clusters && users;
    }

    /// <summary>The bytes of a <c>*-data</c> field; a PkiException names the file and key when it is not base64.</summary>
    public static byte[] DecodeData(KubeconfigValue value, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (string.IsNullOrWhiteSpace(value.Text))
        {
            throw new PkiException($"{sourceName}: {value.Key} is empty; put the base64 of the PEM file there " +
                "or restore the kubeconfig from a backup");
        }
        try
        {
            // Folded YAML scalars may carry spaces or line breaks inside the base64; the decoder skips them.
            return Convert.FromBase64String(value.Text);
        }
        catch (FormatException e)
        {
            throw new PkiException($"{sourceName}: {value.Key} is not base64 ({e.Message}); put the base64 of the " +
                "PEM file there or restore the kubeconfig from a backup", e);
        }
    }

    /// <summary>Base64 on one line, as kubectl writes <c>*-data</c> fields.</summary>
    public static string EncodeData(ReadOnlySpan<byte> content) => Convert.ToBase64String(content);

    /// <summary>
    /// The file text with exactly the given values replaced, each written in its original style (plain stays
    /// plain, quoted stays quoted) and every other byte unchanged.
    /// </summary>
    public string Rewrite(IReadOnlyCollection<KeyValuePair<KubeconfigValue, string>> replacements)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        var ordered = new List<KeyValuePair<KubeconfigValue, string>>(replacements.Count);
        foreach (var replacement in replacements.OrderBy(r => r.Key.Start))
        {
            if (!_values.Contains(replacement.Key))
            {
                throw new PkiException($"{_sourceName}: {replacement.Key.Key} at offset {replacement.Key.Start} is not " +
                    "a value of this kubeconfig (was the file read again since?); read the file and retry");
            }
            if (ordered.Count > 0 && ordered[^1].Key.End > replacement.Key.Start)
            {
                // Two keys sharing one anchored scalar: harmless when they agree, ambiguous when they do not.
                if (ordered[^1].Key.Start == replacement.Key.Start && ordered[^1].Value == replacement.Value)
                {
                    continue;
                }
                throw new PkiException($"{_sourceName}: {ordered[^1].Key.Key} and {replacement.Key.Key} share one " +
                    "YAML value (an anchor and alias) but are given different new values; write them separately");
            }
            ordered.Add(replacement);
        }

        var result = new StringBuilder(Text.Length + 64);
        var position = 0;
        foreach (var (value, newText) in ordered)
        {
            result.Append(Text, position, value.Start - position);
            result.Append(KubeconfigScalar.Format(Text, value.Start, value.End, newText));
            position = value.End;
        }
        result.Append(Text, position, Text.Length - position);
        return result.ToString();
    }

    private static bool IsConfigKind(ReadOnlySpan<char> rest)
    {
        var comment = rest.IndexOf(" #", StringComparison.Ordinal);
        var value = (comment >= 0 ? rest[..comment] : rest).Trim();
        if (value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0])
        {
            value = value[1..^1];
        }
        return value.SequenceEqual("Config");
    }
}
