using System.Text.Json;
using CertFleet.Pki.Verification;

namespace CertFleet.Cli.Output;

/// <summary>`verify` results: a line per problem, or JSON {"passed","certificatesChecked","unitsChecked","problems":[...]}.</summary>
internal static class VerificationOutput
{
    public static void WriteTable(TextWriter output, VerificationReport report)
    {
        if (report.Problems.Count > 0)
        {
            var table = new TextTable("FILE", "PROBLEM");
            foreach (var problem in report.Problems)
            {
                var name = problem.KubeconfigUser is null ? problem.Path : $"{problem.Path} (user {problem.KubeconfigUser})";
                table.Add(name, problem.Problem);
            }
            table.WriteTo(output);
            output.WriteLine();
        }
        var verdict = report.Passed ? "all good" : $"{report.Problems.Count} problem{(report.Problems.Count == 1 ? "" : "s")}";
        output.WriteLine($"Verified {report.CertificatesChecked} certificates and {report.UnitsChecked} units: {verdict}.");
    }

    public static void WriteJson(TextWriter output, VerificationReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("passed", report.Passed);
            json.WriteNumber("certificatesChecked", report.CertificatesChecked);
            json.WriteNumber("unitsChecked", report.UnitsChecked);
            json.WriteStartArray("problems");
            foreach (var problem in report.Problems)
            {
                json.WriteStartObject();
                json.WriteString("path", problem.Path);
                json.WriteString("kubeconfigUser", problem.KubeconfigUser);
                json.WriteString("unit", problem.Unit);
                json.WriteString("problem", problem.Problem);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
