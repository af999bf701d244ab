using System.Text.Json;

namespace CertFleet.Bench.Output;

/// <summary>The one JSON object a bench prints as its last line.</summary>
internal static class ResultLine
{
    public static void Print(params (string Name, object Value)[] fields)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                writer.WritePropertyName(name);
                switch (value)
                {
                    case double number:
                        writer.WriteNumberValue(Math.Round(number, 3));
                        break;
                    case int number:
                        writer.WriteNumberValue(number);
                        break;
                    case long number:
                        writer.WriteNumberValue(number);
                        break;
                    default:
                        writer.WriteStringValue(value.ToString());
                        break;
                }
            }
            writer.WriteEndObject();
        }
        Console.Out.Flush();
        Console.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>Progress for the reader; never the last line.</summary>
    public static void Note(string text) => Console.WriteLine("# " + text);
}
