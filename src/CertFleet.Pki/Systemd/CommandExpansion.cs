using System.Text;

namespace CertFleet.Pki.Systemd;

/// <summary>
/// Expands environment variables in an <c>ExecStart=</c> command as systemd does: <c>${VAR}</c> anywhere becomes the
/// exact value inside its word; <c>$VAR</c> as a whole word is split at whitespace into zero or more words;
/// <c>$$</c> is a literal dollar. Unset variables expand to nothing.
/// </summary>
internal static class CommandExpansion
{
    public static List<string> Expand(IEnumerable<string> words, IReadOnlyDictionary<string, string> environment)
    {
        var argv = new List<string>();
        foreach (var word in words)
        {
            if (word.Length > 1 && word[0] == '$' && EnvironmentFileText.IsValidName(word[1..]))
            {
                if (environment.TryGetValue(word[1..], out var value))
                {
                    argv.AddRange(value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
                }
                continue;
            }
            argv.Add(word.Contains('$') ? ExpandBraced(word, environment) : word);
        }
        return argv;
    }

    private static string ExpandBraced(string word, IReadOnlyDictionary<string, string> environment)
    {
        var result = new StringBuilder(word.Length);
        for (var i = 0; i < word.Length; i++)
        {
            if (word[i] == '$' && i + 1 < word.Length && word[i + 1] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (word[i] == '$' && i + 1 < word.Length && word[i + 1] == '{' && word.IndexOf('}', i + 2) is var close and > 0)
            {
                result.Append(environment.GetValueOrDefault(word[(i + 2)..close], ""));
                i = close;
            }
            else
            {
                result.Append(word[i]);
            }
        }
        return result.ToString();
    }
}
