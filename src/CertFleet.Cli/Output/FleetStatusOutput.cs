using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Output;

/// <summary>
/// `status`: a row per node, or {"nodes":[{"name","role","connected","lastReport","certificates":[...]}]}; and the
/// running or halted rollout, if any, as a line under the table or a top-level "rollout": {"id","state","haltReason"}.
/// </summary>
internal static class FleetStatusOutput
{
    public static void WriteTable(TextWriter output, StatusResponse status, Rollout? rollout, DateTimeOffset now)
    {
        var table = new TextTable("NODE", "ROLE", "AGENT", "LAST REPORT", "CERTIFICATES", "SOONEST EXPIRY", "RESIDUAL TIME", "STATUS");
        foreach (var node in status.Nodes)
        {
            var views = node.Certificates.Select(CertificateView.From).ToList();
            var soonest = views.Where(v => !v.Certificate.IsCa).MinBy(v => v.Certificate.NotAfter);
            var expired = views.Count(v => v.Certificate.NotAfter <= now);
            var expiring = views.Count(v => v.Certificate.NotAfter > now && v.Certificate.NotAfter - now < ExpiryStatus.SoonThreshold);
            var state = expired > 0 ? $"{expired} EXPIRED" : expiring > 0 ? $"{expiring} EXPIRING" : "ok";
            if (node.Errors.Count > 0)
            {
                state += $", {node.Errors.Count} unreadable";
            }
            table.Add(node.Name, node.Role, node.Connected ? "connected" : "DISCONNECTED",
                node.LastReport is null ? "never" : $"{ResidualTime.Format(now - node.LastReport.ToDateTimeOffset())} ago",
                views.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                soonest is null ? "-" : $"{ResidualTime.Date(soonest.Certificate.NotAfter)} ({soonest.Path})",
                soonest is null ? "-" : ResidualTime.Format(soonest.Certificate.NotAfter - now),
                state);
        }
        table.WriteTo(output);
        if (rollout is { State: "halted" })
        {
            output.WriteLine();
            output.WriteLine($"Rollout {rollout.Id} is HALTED: {rollout.HaltReason.ReplaceLineEndings("; ")}");
            RolloutOutput.WriteProbeOutput(output, rollout.Steps.Where(s => s.State == "failed"));
            output.WriteLine($"Then: certfleet rollout resume {rollout.Id} | certfleet rollout abort {rollout.Id} | certfleet rollback --rollout {rollout.Id}");
        }
        else if (rollout is not null)
        {
            output.WriteLine();
            output.WriteLine($"Rollout {rollout.Id} is {rollout.State} (certfleet rollout show {rollout.Id}).");
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
                ExpiryJson.WriteElements(json, node.Certificates.Select(CertificateView.From), node.Errors.Select(e => (e.Path, e.Message)), now);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (rollout is not null)
            {
                json.WriteStartObject("rollout");
                json.WriteString("id", rollout.Id);
                json.WriteString("state", rollout.State);
                json.WriteString("haltReason", rollout.HaltReason);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        });
    }
}
