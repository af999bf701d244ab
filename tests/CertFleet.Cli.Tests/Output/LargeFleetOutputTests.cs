using System.Globalization;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Tests.Output;

/// <summary>
/// What `plan` and `renew --wait` print for a fleet of 3 masters and 2,000 workers (the fleet bench's size): a summary
/// of a few dozen lines by default, every certificate and step with --detail, and progress by batch, with a line
/// rewritten in place only on a terminal.
/// </summary>
public sealed class LargeFleetOutputTests
{
    private const int Workers = 2000;
    private const int WorkersPerBatch = 200;
    private static readonly string[] Masters = ["master-1", "master-2", "master-3"];

    [Fact]
    public void WritePlan_TwoThousandWorkers_SummaryOfAFewDozenLinesWithCountsStepsByUnitAndRefusalsByReason()
    {
        var plan = LargePlan();
        var output = new StringWriter();

        RolloutOutput.WritePlan(output, plan, detail: false);

        var lines = output.ToString().Split('\n');
        Assert.True(lines.Length < 40, $"{lines.Length} lines:\n{output}");
        Assert.StartsWith("Plan: 4,030 certificate(s) on 2,003 node(s) to renew (soonest expiry 2026-12-20), 103 refused; 6,016 step(s) in 24 batch(es).",
            lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => Columns(l) is ["restart", "kubelet.service", "10", "2,000", "2,000", _]);
        Assert.Contains(lines, l => Columns(l) is ["restart", "etcd.service", "3", "3", "3", _]);
        Assert.Contains(lines, l => Columns(l) is ["install", "1", "2,003", "2,003", "2"]);
        Assert.Contains(lines, l => l.Trim().StartsWith("100  issued by CN=front-proxy-ca", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("e.g. worker-0000:/etc/kubernetes/pki/front-proxy-client.crt, worker-0001:", StringComparison.Ordinal)
            && l.EndsWith("and 98 more", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Trim().StartsWith("3  the kubelet rotates", StringComparison.Ordinal));
        Assert.Contains("certfleet plan --detail (or -o json)", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("worker-1999", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WritePlan_Detail_EveryCertificateRefusalAndStepAfterTheHeadline()
    {
        var plan = LargePlan();
        var output = new StringWriter();

        RolloutOutput.WritePlan(output, plan, detail: true);

        var text = output.ToString();
        Assert.StartsWith("Plan: 4,030 certificate(s)", text, StringComparison.Ordinal);
        Assert.Equal(plan.Certificates.Count, text.Split('\n').Count(l => l.Contains("/etc/kubernetes/", StringComparison.Ordinal) && l.Contains("2026-12-20", StringComparison.Ordinal)));
        Assert.Equal(plan.Steps.Count, text.Split('\n').Count(l => Columns(l) is [var step, _, "renew-ca" or "install" or "restart", _, _] && int.TryParse(step, out _)));
        Assert.Contains("worker-1999", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RolloutProgress_NotATerminal_ALinePerBatchAndPerFailureAndNoControlCharacter()
    {
        var (output, steps) = Follow(terminal: false, detail: false);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(24 + 1, lines.Length); // every batch once, and the failed step
        Assert.Contains(lines, l => l == "batch 3/24: restart etcd.service on master-1: 1 succeeded");
        Assert.Contains(lines, l => l == "batch 20/24: restart kubelet.service, restart kube-proxy.service on 200 nodes (worker-1000 … worker-1199): 399 succeeded, 1 failed");
        Assert.Contains(lines, l => l.StartsWith("[", StringComparison.Ordinal) && l.Contains("kubelet.service on worker-1100: failed", StringComparison.Ordinal));
        Assert.DoesNotContain('\r', output);
        Assert.DoesNotContain('\u001b', output);
        Assert.True(steps > 6000);
    }

    [Fact]
    public void RolloutProgress_OnATerminal_OneLineRewrittenInPlaceAndClearedAtTheEnd()
    {
        var (output, _) = Follow(terminal: true, detail: false);

        Assert.Contains("\r[", output, StringComparison.Ordinal);
        Assert.Contains("steps done, 1 failed]", output, StringComparison.Ordinal);
        Assert.EndsWith("\r\u001b[K", output, StringComparison.Ordinal);
        // the permanent lines are the same as in a pipe; each is written on a cleared line
        Assert.Equal(25, output.Split('\n').Length - 1);
        Assert.Contains("\r\u001b[Kbatch 24/24:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RolloutProgress_Detail_ALinePerStepChangeAsBefore()
    {
        var (output, steps) = Follow(terminal: false, detail: true);

        // running, then succeeded or failed: two lines a step
        Assert.Equal(2 * steps, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>The large plan's steps run batch by batch: each batch running, then done (worker-1100's kubelet fails).</summary>
    private static (string Output, int Steps) Follow(bool terminal, bool detail)
    {
        var text = new StringWriter();
        var output = new TerminalWriter(text);
        var rollout = new Rollout { Id = "r-large", State = RolloutState.Running };
        rollout.Steps.AddRange(LargePlan().Steps.Select(s => new RolloutStep
        {
            Sequence = s.Sequence, Batch = s.Batch, Kind = s.Kind, Node = s.Node, Unit = s.Unit, State = StepState.Pending,
        }));
        var progress = new RolloutProgress(output, detail, terminal);
        foreach (var batch in rollout.Steps.GroupBy(s => s.Batch).OrderBy(g => g.Key))
        {
            foreach (var step in batch)
            {
                step.State = StepState.Running;
            }
            progress.Update(rollout.Clone());
            foreach (var step in batch)
            {
                step.State = step is { Node: "worker-1100", Unit: "kubelet.service" } ? StepState.Failed : StepState.Succeeded;
            }
            progress.Update(rollout.Clone());
        }
        progress.Finish();
        return (text.ToString(), rollout.Steps.Count);
    }

    /// <summary>
    /// 3 masters (10 certificates each) and 2,000 workers (kubelet and kube-proxy); 100 workers' front-proxy-client
    /// refused for one reason, 3 for another; the runbook's steps with workers in batches of 200.
    /// </summary>
    private static RolloutPlan LargePlan()
    {
        var expires = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 20, 0, 0, 0, TimeSpan.Zero));
        var renewed = Timestamp.FromDateTimeOffset(new DateTimeOffset(2027, 12, 20, 0, 0, 0, TimeSpan.Zero));
        var workers = Enumerable.Range(0, Workers).Select(i => $"worker-{i:0000}").ToList();
        var plan = new RolloutPlan();
        foreach (var master in Masters)
        {
            plan.Certificates.AddRange(Enumerable.Range(0, 10).Select(i => Certificate(master, $"/etc/kubernetes/pki/m{i}.crt")));
        }
        foreach (var worker in workers)
        {
            plan.Certificates.Add(Certificate(worker, "/etc/kubernetes/pki/kubelet.crt"));
            plan.Certificates.Add(Certificate(worker, "/etc/kubernetes/pki/kube-proxy.crt"));
        }
        plan.Refused.AddRange(workers.Take(100).Select(w => new RefusedCertificate
        {
            Node = w, Path = "/etc/kubernetes/pki/front-proxy-client.crt", Subject = "CN=front-proxy-client",
            Reason = "issued by CN=front-proxy-ca, which is not a CA this coordinator signs with; give the coordinator that CA (--ca-cert/--ca-key)",
        }));
        plan.Refused.AddRange(workers.Skip(100).Take(3).Select(w => new RefusedCertificate
        {
            Node = w, Path = "/var/lib/kubelet/pki/kubelet-client-current.pem", Subject = $"CN=system:node:{w}",
            Reason = "the kubelet rotates this certificate itself (--rotate-certificates); left alone",
        }));
        var sequence = 0;
        var batch = 1;
        void Step(StepKind kind, string node, string unit, int inBatch) =>
            plan.Steps.Add(new PlannedStep { Sequence = ++sequence, Batch = inBatch, Kind = kind, Node = node, Unit = unit });
        Step(StepKind.RenewCa, "", "", batch++);
        foreach (var node in Masters.Concat(workers))
        {
            Step(StepKind.Install, node, "", batch);
        }
        batch++;
        foreach (var unit in new[] { "etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service" })
        {
            foreach (var master in Masters)
            {
                Step(StepKind.Restart, master, unit, batch++);
            }
        }
        foreach (var group in workers.Chunk(WorkersPerBatch))
        {
            foreach (var worker in group)
            {
                Step(StepKind.Restart, worker, "kubelet.service", batch);
                Step(StepKind.Restart, worker, "kube-proxy.service", batch);
            }
            batch++;
        }
        return plan;

        PlannedCertificate Certificate(string node, string path) =>
            new() { Node = node, Path = path, Subject = $"CN={node}", NotAfter = expires, NewNotAfter = renewed };
    }

    private static string[] Columns(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
