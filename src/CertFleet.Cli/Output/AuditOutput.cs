using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Output;

/// <summary>`audit`: a row per record (TIME, KIND, NODE, PATH/SUBJECT, SERIAL, DETAIL), or {"events":[...]}.</summary>
internal static class AuditOutput
{
    public static void WriteTable(TextWriter output, AuditResponse audit)
    {
        if (audit.Events.Count == 0)
        {
            output.WriteLine("No audit records match.");
            return;
        }
        var table = new TextTable("TIME", "KIND", "NODE", "PATH/SUBJECT", "SERIAL", "DETAIL");
        foreach (var e in audit.Events)
        {
            var what = (e.Path.Length, e.Subject.Length) switch
            {
                (0, 0) => "-",
                (0, _) => e.Subject,
                (_, 0) => e.Path,
                _ => $"{e.Path} ({e.Subject})",
            };
            table.Add(ResidualTime.Iso(e.Time.ToDateTimeOffset()), e.Kind, e.Node.Length == 0 ? "-" : e.Node, what,
                e.Serial.Length == 0 ? "-" : e.Serial, Detail(e));
        }
        table.WriteTo(output);
    }

    public static void WriteJson(TextWriter output, AuditResponse audit)
    {
        JsonText.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("events");
            foreach (var e in audit.Events)
            {
                json.WriteStartObject();
                json.WriteNumber("sequence", e.Sequence);
                json.WriteString("time", ResidualTime.Iso(e.Time.ToDateTimeOffset()));
                json.WriteString("kind", e.Kind);
                json.WriteString("actor", e.Actor);
                json.WriteString("node", e.Node);
                json.WriteString("path", e.Path);
                json.WriteString("subject", e.Subject);
                json.WriteString("serial", e.Serial);
                if (e.NotAfter is null)
                {
                    json.WriteNull("notAfter");
                }
                else
                {
                    json.WriteString("notAfter", ResidualTime.Iso(e.NotAfter.ToDateTimeOffset()));
                }
                json.WriteString("previousSerial", e.PreviousSerial);
                json.WriteString("reason", e.Reason);
                json.WriteString("rolloutId", e.RolloutId);
                json.WriteString("detail", e.Detail);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary>The reason for refusals and failures, else what else there is to know, and who did it.</summary>
    private static string Detail(AuditEvent e)
    {
        var parts = new List<string>();
        if (e.Reason.Length > 0)
        {
            parts.Add(e.Reason);
        }
        if (e.PreviousSerial.Length > 0 && e.Kind != "refused")
        {
            parts.Add($"was {e.PreviousSerial}");
        }
        if (e.NotAfter is not null)
        {
            parts.Add($"until {ResidualTime.Date(e.NotAfter.ToDateTimeOffset())}");
        }
        if (e.Detail.Length > 0 && e.Reason.Length == 0)
        {
            parts.Add(e.Detail);
        }
        if (e.RolloutId.Length > 0)
        {
            parts.Add($"rollout {e.RolloutId}");
        }
        parts.Add($"by {e.Actor}");
        return string.Join("; ", parts);
    }
}
