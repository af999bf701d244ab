using System.Text.Json;
using CertFleet.Protocol.V1;
using Google.Protobuf.Collections;

namespace CertFleet.Cli.Output;

/// <summary>
/// `status`'s coordinators of the group (one for a coordinator on SQLite): a small COORDINATOR / ROLE / LAST SEEN
/// table with the one that answered marked, or "coordinators": [{"url","role","lastSeen","answering"}]. A coordinator
/// from before groups lists none: both are left out, so its status prints exactly what it printed before; and so is a
/// coordinator alone (one, active, as on SQLite), which has nothing to tell: what scripts read stays as it was.
/// </summary>
internal static class CoordinatorsOutput
{
    /// <summary>A URL or role longer than this is the coordinator's mistake (or worse): shown cut, never flooding the table.</summary>
    private const int MaxShownChars = 200;

    public const string AnsweredMark = "answered this";

    public static void WriteTable(TextWriter output, RepeatedField<CoordinatorMember> coordinators, DateTimeOffset now)
    {
        if (!IsGroup(coordinators))
        {
            return;
        }
        output.WriteLine();
        var table = new TextTable("COORDINATOR", "ROLE", "LAST SEEN", "");
        foreach (var coordinator in coordinators)
        {
            table.Add(Clipped(coordinator.Url), Clipped(coordinator.Role), LastSeen(coordinator, now), coordinator.Answering ? AnsweredMark : "");
        }
        table.WriteTo(output);
    }

    public static void WriteJson(Utf8JsonWriter json, RepeatedField<CoordinatorMember> coordinators)
    {
        if (!IsGroup(coordinators))
        {
            return;
        }
        json.WriteStartArray("coordinators");
        foreach (var coordinator in coordinators)
        {
            json.WriteStartObject();
            json.WriteString("url", coordinator.Url);
            json.WriteString("role", coordinator.Role);
            if (coordinator.LastSeen is null)
            {
                json.WriteNull("lastSeen");
            }
            else
            {
                json.WriteString("lastSeen", ResidualTime.Iso(coordinator.LastSeen.ToDateTimeOffset()));
            }
            json.WriteBoolean("answering", coordinator.Answering);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static bool IsGroup(RepeatedField<CoordinatorMember> coordinators) =>
        coordinators.Count > 1 || (coordinators.Count == 1 && coordinators[0].Role != "active");

    private static string LastSeen(CoordinatorMember coordinator, DateTimeOffset now)
    {
        if (coordinator.LastSeen is null)
        {
            return "never";
        }
        // clocks of two machines: a moment "in the future" is just now
        var age = now - coordinator.LastSeen.ToDateTimeOffset();
        return age < TimeSpan.FromSeconds(1) ? "0s ago" : $"{ResidualTime.Format(age)} ago";
    }

    private static string Clipped(string text) => text.Length <= MaxShownChars ? text : text[..MaxShownChars] + "…";
}
