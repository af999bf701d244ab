using System.Globalization;

namespace CertFleet.Bench;

/// <summary>"--name value" pairs; every value is checked where it is read, with an error that names the flag.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static BenchArguments Parse(IEnumerable<string> args)
    {
        var parsed = new BenchArguments();
        using var words = args.GetEnumerator();
        while (words.MoveNext())
        {
            var name = words.Current;
            if (!name.StartsWith("--", StringComparison.Ordinal) || !words.MoveNext())
            {
                throw new BenchException($"'{name}': flags come as --name value");
            }
            parsed._values[name[2..]] = words.Current;
        }
        return parsed;
    }

    public int Int(string name, int fallback)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new BenchException($"--{name} '{text}': give a whole number above zero");
    }

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public string? TextOrNull(string name) => _values.GetValueOrDefault(name);
}
