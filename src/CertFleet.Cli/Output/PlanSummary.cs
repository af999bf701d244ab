using System.Globalization;
using CertFleet.Protocol.V1;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Output;

/// <summary>
/// A plan as a few lines whatever the fleet's size: how many certificates on how many nodes, the steps by what they
/// do (in the runbook's order, with their batches and nodes), and what is refused grouped by reason. On 2,000 nodes
/// the per-certificate and per-step tables are tens of thousands of lines; they stay one `--detail` (or `-o json`) away.
/// </summary>
internal static class PlanSummary
{
    /// <summary>Up to this many rows, a table is short enough to read whole: small fleets see the detail as before.</summary>
    public const int DetailShownUpTo = 40;

    private const int ReasonsShown = 10;
    private const int ExamplesPerReason = 2;

    /// <summary>Whether the plan's own tables are short enough to print without being asked.</summary>
    public static bool IsSmall(RolloutPlan plan) =>
        plan.Certificates.Count <= DetailShownUpTo && plan.Steps.Count <= DetailShownUpTo && plan.Refused.Count <= DetailShownUpTo;

    /// <summary>The headline; with <paramref name="grouped"/>, the steps and refusals grouped too (when the detail is not printed).</summary>
    public static void Write(TextWriter output, RolloutPlan plan, bool grouped)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var nodes = plan.Certificates.Select(c => c.Node).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).Count();
        var soonest = plan.Certificates.Where(c => c.NotAfter is not null).Select(c => c.NotAfter.ToDateTimeOffset()).DefaultIfEmpty().Min();
        var batches = plan.Steps.Select(s => s.Batch).Distinct().Count();
        output.WriteLine(Invariant($"Plan: {plan.Certificates.Count:N0} certificate(s) on {nodes:N0} node(s) to renew")
            + (plan.Certificates.Count == 0 ? "" : Invariant($" (soonest expiry {soonest:yyyy-MM-dd})"))
            + Invariant($", {plan.Refused.Count:N0} refused; {plan.Steps.Count:N0} step(s) in {batches:N0} batch(es)."));
        if (grouped)
        {
            WriteSteps(output, plan.Steps);
            WriteRefusals(output, plan.Refused);
        }
    }

    /// <summary>The steps grouped by action and unit, in the order their first step runs.</summary>
    private static void WriteSteps(TextWriter output, IReadOnlyCollection<PlannedStep> steps)
    {
        if (steps.Count == 0)
        {
            return;
        }
        output.WriteLine();
        var table = new TextTable("STEPS", "BATCHES", "COUNT", "NODES", "FROM STEP");
        foreach (var group in steps.GroupBy(s => (s.Kind, s.Unit)).OrderBy(g => g.Min(s => s.Sequence)))
        {
            var nodes = group.Select(s => s.Node).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).Count();
            table.Add(group.Key.Unit.Length == 0 ? group.Key.Kind.ToText() : $"{group.Key.Kind.ToText()} {group.Key.Unit}",
                Invariant($"{group.Select(s => s.Batch).Distinct().Count():N0}"), Invariant($"{group.Count():N0}"),
                nodes == 0 ? "(coordinator)" : Invariant($"{nodes:N0}"), Invariant($"{group.Min(s => s.Sequence)}"));
        }
        table.WriteTo(output);
    }

    /// <summary>What is not renewed, one line per reason with how many and where, the most frequent first.</summary>
    public static void WriteRefusals(TextWriter output, IReadOnlyCollection<RefusedCertificate> refused)
    {
        if (refused.Count == 0)
        {
            return;
        }
        output.WriteLine();
        output.WriteLine(Invariant($"Not renewed ({refused.Count:N0}), by reason:"));
        var reasons = refused.GroupBy(r => r.Reason, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        foreach (var reason in reasons.Take(ReasonsShown))
        {
            var examples = reason.Take(ExamplesPerReason).Select(r => $"{Shown(r.Node)}:{Shown(r.Path)}").ToList();
            var more = reason.Count() - examples.Count;
            output.WriteLine(Invariant($"  {reason.Count(),6:N0}  {Shown(reason.Key)}"));
            output.WriteLine($"          e.g. {string.Join(", ", examples)}{(more > 0 ? Invariant($", and {more:N0} more") : "")}");
        }
        if (reasons.Count > ReasonsShown)
        {
            output.WriteLine(Invariant($"  and {reasons.Count - ReasonsShown:N0} other reason(s): --detail lists every refusal"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
