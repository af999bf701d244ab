using System.CommandLine.Parsing;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// The value of `--rekey-ca`, which may be left out: `--rekey-ca` alone is every CA, `--rekey-ca kubernetes-ca` and
/// `--rekey-ca=kubernetes-ca` name one, and the option repeated names several. The parser never takes a known option
/// as a value (`--rekey-ca --wait` is every CA, then --wait); a word starting with '-' that is no option is refused
/// rather than taken for a CA, so a mistyped option never becomes a CA name.
/// </summary>
internal static class RekeyAuthorityNames
{
    public static string[] Parse(ArgumentResult result)
    {
        var names = result.Tokens.Select(t => t.Value).ToList();
        foreach (var name in names.Where(n => n.Length == 0 || n.StartsWith('-')))
        {
            result.AddError(name.Length == 0
                ? EmptyName
                : $"{RekeyOptions.Name} '{name}': a CA's name does not start with '-' (is it a mistyped option?); name the CA by its CN "
                    + "(--rekey-ca kubernetes-ca), or give --rekey-ca alone to re-key every CA");
        }
        // alone means every CA, with a name only that one: both at once says two things
        if (names.Count > 0 && result.Parent is OptionResult { IdentifierTokenCount: var given } && given > names.Count)
        {
            result.AddError($"{RekeyOptions.Name} is given alone (every CA) and with a CA ({string.Join(", ", names)}); "
                + "give it alone to re-key every CA, or name each CA to re-key");
        }
        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// `--rekey-ca=` (or `--rekey-ca:`) with nothing after it, which the parser reads as `--rekey-ca` alone: a script's
    /// `--rekey-ca=$CA` with CA empty must not re-key every CA. Looked for in the arguments themselves, up to `--`.
    /// </summary>
    public static IEnumerable<string> EmptyValues(IEnumerable<string> args) => args
        .TakeWhile(a => a != "--")
        .Where(a => a is $"{RekeyOptions.Name}=" or $"{RekeyOptions.Name}:")
        .Take(1)
        .Select(_ => EmptyName);

    private const string EmptyName = $"{RekeyOptions.Name} is given an empty CA name; name the CA by its CN (--rekey-ca=kubernetes-ca), "
        + "or give --rekey-ca alone to re-key every CA";
}
