using System.CommandLine;
using System.Globalization;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Pki.Text;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet audit [--node N] [--since T] [-o json]`: the coordinator's audit trail, oldest first.</summary>
internal static class AuditCommand
{
    public static Command Create(CliContext context, Option<string> config)
    {
        var output = CommonOptions.Output();
        var node = new Option<string>("--node") { Description = "Only what concerns this node", HelpName = "NAME" };
        var since = Since(context);
        var command = new Command("audit", "Show the audit trail: issuances, refusals, enrollments, tokens, installs, restarts, rollbacks, removals")
        {
            node, since, output,
        };
        command.SetAction((parsed, cancellation) => FleetCommandRunner.RunAsync(context, parsed.GetValue(config), async connection =>
        {
            var request = new AuditRequest { Node = parsed.GetValue(node) ?? "" };
            if (parsed.GetValue(since) is { } from)
            {
                request.Since = Timestamp.FromDateTimeOffset(from);
            }
            var audit = await connection.Admin.AuditAllAsync(request, cancellation);
            if (parsed.GetValue(output) == "json")
            {
                AuditOutput.WriteJson(context.Output, audit);
            }
            else
            {
                AuditOutput.WriteTable(context.Output, audit);
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>An ISO 8601 time (UTC unless it says otherwise), or a duration back from now such as 24h or 7d.</summary>
    private static Option<DateTimeOffset?> Since(CliContext context) => new("--since")
    {
        Description = "Only records from this time on: an ISO 8601 time (2026-11-28T09:00Z) or a duration back from now (24h, 7d)",
        HelpName = "T",
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (DurationText.TryParse(text, out var back, out var problem))
            {
                var now = context.Time.GetUtcNow();
                // further back than year 1 is from the beginning, not an overflow
                return back < now - DateTimeOffset.MinValue ? now - back : DateTimeOffset.MinValue;
            }
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                return time;
            }
            result.AddError($"--since '{text}' is neither an ISO 8601 time (2026-11-28T09:00Z) nor a duration back from now ({problem}); "
                + $"write a time, or {DurationText.Grammar}");
            return null;
        },
    };
}
