using CertFleet.Protocol.V1;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Output;

/// <summary>
/// `status`: a row per node, or {"nodes":[{"name","role","connected","lastReport","certificates":[...]}]}; and the
/// running or halted rollout, if any, as a line under the table or a top-level "rollout": {"id","state","haltReason"};
/// and the coordinators of the group (<see cref="CoordinatorsOutput"/>).
/// </summary>
internal static class FleetStatusOutput
{
    /// <summary>While a CA re-key runs: how many leaves each CA (old, new) issued, on how many nodes: the rotation's progress.</summary>
    private static void WriteIssuersDuringRekey(TextWriter output, StatusResponse status)
    {
        var leaves = status.Nodes.SelectMany(n => n.Certificates.Where(c => c.IssuedBy.Length > 0).Select(c => (Node: n.Name, c.IssuedBy, c.Der)))
            .Where(c => !IsAuthority(c.Der))
            .ToList();
        if (!leaves.Any(l => l.IssuedBy.Contains("re-key", StringComparison.Ordinal)))
        {
            return;
        }
        output.WriteLine();
        var table = new TextTable("ISSUED BY", "CERTIFICATES", "NODES");
        foreach (var issuer in leaves.GroupBy(l => l.IssuedBy).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            table.Add(issuer.Key, issuer.Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                issuer.Select(l => l.Node).Distinct().Count().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        table.WriteTo(output);
    }

    private static bool IsAuthority(Google.Protobuf.ByteString der)
    {
        try
        {
            return Pki.Certificates.CertificateInfo.Parse(der.Span, "a reported certificate").IsCa;
        }
        catch (Pki.PkiException)
        {
            return true; // not a leaf anyone can count; its error is listed with the node's
        }
    }

    public static void WriteTable(TextWriter output, StatusResponse status, Rollout? rollout, DateTimeOffset now)
    {
        var table = new TextTable("NODE", "ROLE", "AGENT", "LAST REPORT", "CERTIFICATES", "SOONEST EXPIRY", "RESIDUAL TIME", "STATUS");
        var unreadable = new List<string>();
        foreach (var node in status.Nodes)
        {
            var (views, errors) = ReportedCertificates.Of(node);
            var soonest = views.Where(v => !v.Certificate.IsCa).MinBy(v => v.Certificate.NotAfter);
            var expired = views.Count(v => v.Certificate.NotAfter <= now);
            var expiring = views.Count(v => v.Certificate.NotAfter > now && v.Certificate.NotAfter - now < ExpiryStatus.SoonThreshold);
            var state = expired > 0 ? $"{expired} EXPIRED" : expiring > 0 ? $"{expiring} EXPIRING" : "ok";
            if (errors.Count > 0)
            {
                state += $", {errors.Count} unreadable";
            }
            unreadable.AddRange(errors.Select(e => $"{Shown(node.Name)}: {Shown(e.Path)}: {Shown(e.Message)}"));
            table.Add(node.Name, node.Role, node.Connected ? "connected" : "DISCONNECTED",
                node.LastReport is null ? "never" : $"{ResidualTime.Format(now - node.LastReport.ToDateTimeOffset())} ago",
                views.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                soonest is null ? "-" : $"{ResidualTime.Date(soonest.Certificate.NotAfter)} ({soonest.Path})",
                soonest is null ? "-" : ResidualTime.Format(soonest.Certificate.NotAfter - now),
                state);
        }
        table.WriteTo(output);
        WriteIssuersDuringRekey(output, status);
        if (unreadable.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("COULD NOT READ");
            unreadable.ForEach(output.WriteLine);
        }
        CoordinatorsOutput.WriteTable(output, status.Coordinators, now);
        if (rollout is { State: RolloutState.Halted })
        {
            output.WriteLine();
            output.WriteLine($"Rollout {Shown(rollout.Id)} is HALTED: {Shown(rollout.HaltReason.ReplaceLineEndings("; "))}");
            RolloutOutput.WriteProbeOutput(output, rollout.Steps.Where(s => s.State == StepState.Failed));
            output.WriteLine($"Then: certfleet rollout resume {Shown(rollout.Id)} | certfleet rollout abort {Shown(rollout.Id)} | certfleet rollback --rollout {Shown(rollout.Id)}");
        }
        else if (rollout is not null)
        {
            output.WriteLine();
            output.WriteLine($"Rollout {Shown(rollout.Id)} is {Shown(rollout.State.ToText())} (certfleet rollout show {Shown(rollout.Id)}).");
        }
    }

    public static void WriteJson(TextWriter output, StatusResponse status, Rollout? rollout, DateTimeOffset now)
    {
        JsonText.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("nodes");
            foreach (var node in status.Nodes)
            {
                json.WriteStartObject();
                json.WriteString("name", node.Name);
                json.WriteString("role", node.Role);
                json.WriteBoolean("connected", node.Connected);
                if (node.LastReport is null)
                {
                    json.WriteNull("lastReport");
                }
                else
                {
                    json.WriteString("lastReport", ResidualTime.Iso(node.LastReport.ToDateTimeOffset()));
                }
                json.WriteStartArray("certificates");
                var (views, errors) = ReportedCertificates.Of(node);
                ExpiryJson.WriteElements(json, views, errors, now);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            CoordinatorsOutput.WriteJson(json, status.Coordinators);
            if (rollout is not null)
            {
                json.WriteStartObject("rollout");
                json.WriteString("id", rollout.Id);
                json.WriteString("state", rollout.State.ToText());
                json.WriteString("haltReason", rollout.HaltReason);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        });
    }
}
