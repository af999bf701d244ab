using System.Globalization;
using System.Text;

namespace CertFleet.Coordinator.Tests.Metrics;

/// <summary>One sample of a scrape: name, labels (empty values dropped, as Prometheus drops them) and value.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// A strict reader of the Prometheus text format (0.0.4), written from the format's spec rather than from the
/// library that writes it: a line it does not understand fails the test.
/// </summary>
internal static class Exposition
{
    public static IReadOnlyList<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(types.TryAdd(parts[2], parts[3]), $"TYPE given twice for {parts[2]}");
                continue;
            }
            if (line.StartsWith('#'))
            {
                continue;
            }
            samples.Add(ParseSample(line));
        }
        foreach (var sample in samples)
        {
            Assert.True(types.ContainsKey(sample.Name) || types.ContainsKey(sample.Name.Replace("_total", "", StringComparison.Ordinal)),
                $"no TYPE line for {sample.Name}");
        }
        var duplicate = samples.GroupBy(s => s.Name + string.Join(',', s.Labels.OrderBy(l => l.Key, StringComparer.Ordinal)))
            .FirstOrDefault(g => g.Count() > 1);
        Assert.True(duplicate is null, $"the same series twice: {duplicate?.Key}");
        return samples;
    }

    private static Sample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        string name;
        int position;
        if (brace >= 0 && brace < space)
        {
            name = line[..brace];
            position = brace + 1;
            while (line[position] != '}')
            {
                var equals = line.IndexOf('=', position);
                var label = line[position..equals];
                Assert.Equal('"', line[equals + 1]);
                var value = new StringBuilder();
                position = equals + 2;
                while (line[position] != '"')
                {
                    if (line[position] == '\\')
                    {
                        position++;
                        value.Append(line[position] switch { 'n' => '\n', var c => c });
                    }
                    else
                    {
                        value.Append(line[position]);
                    }
                    position++;
                }
                position++;
                if (value.Length > 0)
                {
                    labels.Add(label, value.ToString());
                }
                if (line[position] == ',')
                {
                    position++;
                }
            }
            position++;
        }
        else
        {
            name = line[..space];
            position = space;
        }
        var number = line[position..].Trim();
        Assert.True(double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed), $"not a number: {line}");
        return new Sample(name, labels, parsed);
    }
}
