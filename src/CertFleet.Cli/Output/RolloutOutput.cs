using System.Globalization;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Output;

/// <summary>Plans and rollouts as tables, progress lines and JSON.</summary>
internal static class RolloutOutput
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    /// <summary>
    /// The plan: its summary (<see cref="PlanSummary"/>), then every certificate, refusal and step when
    /// <paramref name="detail"/> is asked for or the plan is small enough to read whole.
    /// </summary>
    public static void WritePlan(TextWriter output, RolloutPlan plan, bool detail)
    {
        var whole = detail || PlanSummary.IsSmall(plan);
        PlanSummary.Write(output, plan, grouped: !whole);
        if (!whole)
        {
            output.WriteLine();
            output.WriteLine("Every certificate, refusal and step: certfleet plan --detail (or -o json).");
        }
        else
        {
            output.WriteLine();
            WriteDetail(output, plan);
        }
        foreach (var warning in plan.Warnings)
        {
            output.WriteLine();
            output.WriteLine($"warning: {Shown(warning)}");
        }
    }

    private static void WriteDetail(TextWriter output, RolloutPlan plan)
    {
        if (plan.Certificates.Count == 0)
        {
            output.WriteLine("Nothing to renew.");
        }
        else
        {
            output.WriteLine($"{plan.Certificates.Count} certificate(s) to renew:");
            var table = new TextTable("NODE", "CERTIFICATE", "SUBJECT", "EXPIRES", "NEW EXPIRY");
            foreach (var c in plan.Certificates)
            {
                var name = c.KubeconfigUser.Length == 0 ? c.Path : $"{c.Path} (user {c.KubeconfigUser})";
                var subject = c.SelfSignedOnNode ? $"{c.Subject} (the kubelet's own: self-signed on the node)" : c.Subject;
                table.Add(c.Node.Length == 0 ? "(coordinator)" : c.Node, name, subject, Day(c.NotAfter), Day(c.NewNotAfter));
            }
            table.WriteTo(output);
        }
        WriteRefused(output, plan.Refused);
        if (plan.Steps.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Steps, in order (each gated on health before the next):");
            var steps = new TextTable("STEP", "BATCH", "ACTION", "NODE", "UNIT");
            foreach (var s in plan.Steps)
            {
                steps.Add(s.Sequence.ToString(CultureInfo.InvariantCulture), s.Batch.ToString(CultureInfo.InvariantCulture), s.Kind.ToText(),
                    s.Node.Length == 0 ? "-" : s.Node, s.Unit.Length == 0 ? "-" : s.Unit);
                // a re-key's trust, switch-signing and retire steps: what the node will write, under the step, from its action on
                foreach (var file in s.Files)
                {
                    steps.AddUnder(2, file);
                }
            }
            steps.WriteTo(output);
        }
    }

    public static void WriteRollout(TextWriter output, Rollout rollout)
    {
        output.WriteLine($"Rollout {Shown(rollout.Id)}: {Shown(rollout.State.ToText())}{(rollout.Automatic ? " (automatic)" : "")}, "
            + $"started {Moment(rollout.CreatedAt)}{(rollout.FinishedAt is null ? "" : $", finished {Moment(rollout.FinishedAt)}")}");
        if (rollout.HaltReason.Length > 0)
        {
            output.WriteLine($"Halted: {Shown(rollout.HaltReason)}");
        }
        var table = new TextTable("STEP", "BATCH", "ACTION", "NODE", "UNIT", "STATE", "MESSAGE");
        foreach (var s in rollout.Steps)
        {
            table.Add(s.Sequence.ToString(CultureInfo.InvariantCulture), s.Batch.ToString(CultureInfo.InvariantCulture), s.Kind.ToText(),
                s.Node.Length == 0 ? "-" : s.Node, s.Unit.Length == 0 ? "-" : s.Unit, s.State.ToText(), OneLine(s.Message));
        }
        table.WriteTo(output);
        WriteProbeOutput(output, rollout.Steps);
        WriteRefused(output, rollout.Refused);
    }

    /// <summary>What each failed gate's probe said, in full: the table keeps to one line per step.</summary>
    public static void WriteProbeOutput(TextWriter output, IEnumerable<RolloutStep> steps)
    {
        foreach (var s in steps.Where(s => s.ProbeOutput.Trim().Length > 0))
        {
            output.WriteLine();
            output.WriteLine($"Probe output of step {s.Sequence} ({Shown(s.Kind.ToText())} {Shown(s.Unit)} on {Shown(s.Node)}, {Shown(s.State.ToText())}):".Replace("  ", " ", StringComparison.Ordinal));
            foreach (var line in s.ProbeOutput.Trim().ReplaceLineEndings("\n").Split('\n'))
            {
                output.WriteLine($"  {Shown(line)}");
            }
        }
    }

    public static void WriteList(TextWriter output, ListRolloutsResponse list)
    {
        var table = new TextTable("ROLLOUT", "STATE", "STARTED", "FINISHED", "STEPS DONE", "HOW");
        foreach (var r in list.Rollouts)
        {
            var done = r.Steps.Count(s => s.State is StepState.Succeeded or StepState.Skipped);
            table.Add(r.Id, r.State.ToText(), Moment(r.CreatedAt), r.FinishedAt is null ? "-" : Moment(r.FinishedAt),
                $"{done}/{r.Steps.Count}", r.Automatic ? "automatic" : "operator");
        }
        table.WriteTo(output);
    }

    /// <summary>One line for a step that changed, as `renew --wait` shows progress.</summary>
    public static string ProgressLine(Rollout rollout, RolloutStep step)
    {
        var where = step.Node.Length == 0 ? "coordinator" : step.Node;
        var unit = step.Unit.Length == 0 ? "" : $" {Shown(step.Unit)}";
        var message = step.Message.Length == 0 ? "" : $": {Shown(OneLine(step.Message))}";
        return $"[{step.Sequence}/{rollout.Steps.Count}] {Shown(step.Kind.ToText())}{unit} on {Shown(where)}: {Shown(step.State.ToText())}{message}";
    }

    /// <summary>A message as JSON; rollouts and plans as they always printed, with their states and kinds as words (<see cref="RolloutJson"/>).</summary>
    public static void WriteJson(TextWriter output, IMessage message)
    {
        switch (message)
        {
            case Rollout rollout:
                RolloutJson.Write(output, rollout);
                break;
            case ListRolloutsResponse list:
                RolloutJson.Write(output, list);
                break;
            case RolloutPlan plan:
                RolloutJson.Write(output, plan);
                break;
            default:
                output.WriteLine(Json.Format(message));
                break;
        }
    }

    /// <summary>"Not renewed:" and a line per refused certificate (node, path, subject, reason); nothing when none.</summary>
    public static void WriteRefused(TextWriter output, IReadOnlyCollection<RefusedCertificate> refused)
    {
        if (refused.Count == 0)
        {
            return;
        }
        output.WriteLine();
        output.WriteLine("Not renewed:");
        foreach (var r in refused)
        {
            output.WriteLine($"  {Shown(r.Node)}: {Shown(r.Path)} ({Shown(r.Subject)}): {Shown(r.Reason)}");
        }
    }

    private static string Day(Google.Protobuf.WellKnownTypes.Timestamp? t) =>
        t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Moment(Google.Protobuf.WellKnownTypes.Timestamp? t) =>
        t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
