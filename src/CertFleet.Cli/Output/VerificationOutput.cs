using System.Text.Json;
using CertFleet.Pki.Verification;
using CertFleet.Protocol.V1;

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

    public static void WriteFleetTable(TextWriter output, VerifyFleetResponse response)
    {
        var table = new TextTable("NODE", "FILE", "PROBLEM");
        foreach (var node in response.Nodes)
        {
            if (!node.Reachable)
            {
                table.Add(node.Node, "-", $"agent not reachable: {node.Error}");
                continue;
            }
            foreach (var problem in node.Result.Problems)
            {
                var name = problem.KubeconfigUser.Length == 0 ? problem.Path : $"{problem.Path} (user {problem.KubeconfigUser})";
                table.Add(node.Node, name, problem.Problem);
            }
        }
        if (table.RowCount > 0)
        {
            table.WriteTo(output);
            output.WriteLine();
        }
        var good = response.Nodes.Count(n => n.Reachable && n.Result is { Passed: true });
        output.WriteLine($"Verified {response.Nodes.Count} node(s): {good} all good, {response.Nodes.Count - good} with problems.");
    }

    public static void WriteJson(TextWriter output, VerificationReport report)
    {
        JsonText.Write(output, json =>
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
        });
    }
}
