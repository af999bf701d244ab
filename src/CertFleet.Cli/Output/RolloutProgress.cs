using System.Globalization;
using CertFleet.Protocol.V1;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Output;

/// <summary>
/// What `renew --wait` shows while a rollout runs. With <c>detail</c> (asked for, or a rollout of a few dozen steps):
/// a line per step that changed, as before. Otherwise a line per batch when it is done and one per failed step, so a
/// rollout over 2,000 nodes is a couple of hundred lines, not tens of thousands; and on a terminal one more line,
/// rewritten in place, that says where the rollout is now (a pipe or a file never gets control characters).
/// </summary>
internal sealed class RolloutProgress(TextWriter output, bool detail, bool terminal)
{
    private readonly Dictionary<int, StepState> _shown = [];
    private readonly HashSet<int> _batchesDone = [];
    private bool _statusShown;

    /// <summary>Whether a rollout of <paramref name="steps"/> steps is shown step by step without being asked.</summary>
    public static bool IsSmall(int steps) => steps <= PlanSummary.DetailShownUpTo;

    public void Update(Rollout rollout)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        foreach (var step in rollout.Steps.Where(s => s.State != StepState.Pending))
        {
            if (_shown.GetValueOrDefault(step.Sequence) == step.State)
            {
                continue;
            }
            _shown[step.Sequence] = step.State;
            if (detail || step.State == StepState.Failed)
            {
                Permanent(RolloutOutput.ProgressLine(rollout, step));
            }
        }
        if (!detail)
        {
            WriteBatchesDone(rollout);
            ShowStatus(rollout);
        }
    }

    /// <summary>Takes the in-place line away, so what follows starts on a clean line.</summary>
    public void Finish()
    {
        if (_statusShown && output is TerminalWriter terminalWriter)
        {
            terminalWriter.WriteOverCurrentLine("");
            _statusShown = false;
        }
    }

    private void WriteBatchesDone(Rollout rollout)
    {
        var batches = rollout.Steps.GroupBy(s => s.Batch).OrderBy(g => g.Key).ToList();
        foreach (var batch in batches)
        {
            if (_batchesDone.Contains(batch.Key) || batch.Any(s => s.State is StepState.Pending or StepState.Running))
            {
                continue;
            }
            _batchesDone.Add(batch.Key);
            var what = string.Join(", ", batch.GroupBy(s => (s.Kind, s.Unit)).Select(g => $"{Shown(g.Key.Kind.ToText())}{(g.Key.Unit.Length == 0 ? "" : " " + Shown(g.Key.Unit))}"));
            var nodes = batch.Select(s => s.Node.Length == 0 ? "coordinator" : s.Node).Distinct(StringComparer.Ordinal).ToList();
            var states = string.Join(", ", batch.GroupBy(s => s.State).OrderBy(g => g.Key).Select(g => Invariant($"{g.Count():N0} {g.Key.ToText()}")));
            Permanent(Invariant($"batch {batch.Key}/{batches.Count}: {what} on {Nodes(nodes)}: {states}"));
        }
    }

    private void ShowStatus(Rollout rollout)
    {
        if (!terminal || output is not TerminalWriter terminalWriter)
        {
            return;
        }
        var done = rollout.Steps.Count(s => s.State is not (StepState.Pending or StepState.Running));
        var failed = rollout.Steps.Count(s => s.State == StepState.Failed);
        var running = rollout.Steps.Where(s => s.State == StepState.Running).ToList();
        var now = running.Count == 0 ? "" : running.Count == 1
            ? $": {Shown(running[0].Kind.ToText())} {Shown(running[0].Unit)} on {Shown(running[0].Node)}".Replace("  ", " ", StringComparison.Ordinal)
            : Invariant($": {running.Count:N0} steps running");
        var line = Invariant($"[{done:N0}/{rollout.Steps.Count:N0} steps done{(failed > 0 ? $", {failed:N0} failed" : "")}]") + now;
        // wider than the terminal would wrap, and a wrapped line cannot be rewritten in place
        terminalWriter.WriteOverCurrentLine(line.Length > 100 ? line[..99] + "…" : line);
        _statusShown = true;
    }

    private void Permanent(string line)
    {
        Finish();
        output.WriteLine(line);
    }

    private static string Nodes(List<string> nodes) => nodes.Count <= 3
        ? string.Join(", ", nodes.Select(Shown))
        : Invariant($"{nodes.Count:N0} nodes ({Shown(nodes[0])} … {Shown(nodes[^1])})");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
