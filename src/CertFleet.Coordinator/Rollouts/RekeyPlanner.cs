using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Signing;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// Plans a CA re-key (docs/CA-REKEY.md) as one rollout in three phases, each gated like a renewal:
/// new-ca; trust on every node, then restarts in the runbook order; [pause]; switch-ca, switch-signing on the masters
/// that sign with an old CA, install (every leaf an old CA issued, re-issued under its successor with its own key),
/// restarts; [pause]; retire on every node, restarts; retire-ca. What each node will write comes from the node itself
/// (a RekeyRequest preview: nothing written), so the plan lists every file per node and phase, and every place the
/// node cannot rotate.
/// </summary>
/// <param name="members">the coordinator group: a re-key is refused while another coordinator of it runs (null: alone)</param>
internal sealed class RekeyPlanner(IAgentGateway gateway, ClusterAuthorities authorities, SigningPolicy policy, TimeProvider time,
    Group.CoordinatorMembers? members = null)
{
    /// <summary>
    /// Why a coordinator group does not re-key yet: the new CA's key is made (or given) on the active coordinator and
    /// kept in its state dir only, so a standby taking over mid-re-key could not sign with it. Until the group shares
    /// it, the operator re-keys with one coordinator: the others stopped.
    /// </summary>
    public static string GroupRefusal(IEnumerable<string> others) => $"a CA re-key does not run while other coordinators of the group run "
        + $"({string.Join(", ", others)}): the new CA key would exist on this coordinator only, and a standby taking over could not finish "
        + "the re-key. Stop the other coordinators, re-key with this one, then copy its state dir's authorities/ folder to the others "
        + "before starting them again";

    private const int MaxConcurrentPreviews = 16;
    private static readonly TimeSpan PreviewTimeout = TimeSpan.FromMinutes(1);

    public async Task<PlannedRollout> PlanAsync(RolloutRequest request, IReadOnlyList<NodeRecord> nodes, List<string> warnings, int batchSize,
        CancellationToken cancellationToken)
    {
        var rekey = request.RekeyCa;
        var selected = RekeySuccessors.Selected(rekey, authorities);
        var made = RekeySuccessors.Make(rekey, selected, time);
        try
        {
            var pairs = selected.Zip(made, (old, next) => new RekeyedAuthority
            {
                OldCaDer = ByteString.CopyFrom(old.Certificate.Der), NewCaDer = ByteString.CopyFrom(next.Certificate.Der),
            }).ToList();
            // a node the re-key does not reach keeps trusting the old CA alone: once it is retired, that node's services fail
            var blockers = warnings.Where(w => w.Contains("is excluded", StringComparison.Ordinal)
                || w.Contains("is not connected", StringComparison.Ordinal) || w.Contains("has not reported", StringComparison.Ordinal)).ToList();
            if (members?.OthersRunning() is { Count: > 0 } others)
            {
                blockers.Add(GroupRefusal(others));
            }
            var previews = await PreviewsAsync(nodes, pairs, blockers, cancellationToken).ConfigureAwait(false);
            var plan = new RolloutPlan();
            var now = time.GetUtcNow();
            foreach (var (old, next) in selected.Zip(made))
            {
                plan.Certificates.Add(new PlannedCertificate
                {
                    Node = RolloutPlanner.CoordinatorNode, Subject = old.Certificate.Subject, IsAuthority = true,
                    NotAfter = Timestamp.FromDateTimeOffset(old.Certificate.NotAfter), NewNotAfter = Timestamp.FromDateTimeOffset(next.Certificate.NotAfter),
                });
            }
            var targets = new List<RolloutTarget>();
            var leafUnits = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
            foreach (var node in nodes)
            {
                var units = Leaves(node, selected, plan, targets, now, request);
                if (units is not null)
                {
                    leafUnits[node.Name] = units;
                }
                foreach (var problem in previews.GetValueOrDefault(node.Name)?.Problems ?? [])
                {
                    plan.Refused.Add(new RefusedCertificate { Node = node.Name, Path = problem.Path, Subject = "(trust anchor)", Reason = problem.Message });
                }
            }
            plan.Steps.AddRange(Steps(nodes, previews, leafUnits, rekey.StopAfter, batchSize));
            plan.Warnings.AddRange(warnings);
            plan.Warnings.AddRange(blockers.Select(b => $"a re-key cannot start until it reaches every node: {b}"));
            return new PlannedRollout(request.Clone(), plan, targets)
            {
                Blockers = blockers,
                Successors = selected.Zip(made, (old, next) => (old, next)).ToList(),
            };
        }
        catch
        {
            made.ForEach(m => m.Dispose());
            throw;
        }
    }

    private async Task<Dictionary<string, RekeyPreview>> PreviewsAsync(IReadOnlyList<NodeRecord> nodes, List<RekeyedAuthority> pairs, List<string> blockers,
        CancellationToken cancellationToken)
    {
        var previews = new Dictionary<string, RekeyPreview>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentPreviews, CancellationToken = cancellationToken },
            async (node, token) =>
            {
                var request = new RekeyRequest { Action = RekeyAction.Trust, Preview = true };
                request.Authorities.AddRange(pairs);
                try
                {
                    var answer = await gateway.SendAsync(node.Name, new CoordinatorMessage { Rekey = request }, PreviewTimeout, token).ConfigureAwait(false);
                    lock (previews)
                    {
                        if (answer.BodyCase == AgentMessage.BodyOneofCase.RekeyPreview && OverLimits(answer.RekeyPreview) is { } over)
                        {
                            // a node's own words become plan lines and restart steps: a hostile one must not flood them
                            blockers.Add($"{node.Name} sent a re-key preview with {over}; check its agent");
                        }
                        else if (answer.BodyCase == AgentMessage.BodyOneofCase.RekeyPreview)
                        {
                            previews[node.Name] = answer.RekeyPreview;
                        }
                        else
                        {
                            blockers.Add($"{node.Name} did not say what a re-key would change there (its agent answered {answer.BodyCase}; upgrade it)");
                        }
                    }
                }
                catch (AgentUnavailableException e)
                {
                    lock (previews)
                    {
                        blockers.Add($"{node.Name} did not say what a re-key would change there: {e.Message}");
                    }
                }
            }).ConfigureAwait(false);
        return previews;
    }

    /// <summary>What in a node's preview is beyond what any node holds (as its reports are bounded), or null.</summary>
    private static string? OverLimits(RekeyPreview preview)
    {
        const int MaxFiles = 1_000, MaxUnits = 64, MaxText = 4_096;
        var texts = preview.Files.Concat(preview.Units).Concat(preview.SigningFiles).Concat(preview.TrustFiles)
            .Concat(preview.Problems.SelectMany(p => new[] { p.Path, p.Message }));
        return preview.Files.Count > MaxFiles || preview.TrustFiles.Count > MaxFiles || preview.SigningFiles.Count > MaxFiles
                || preview.Problems.Count > MaxFiles ? $"more than {MaxFiles} files or problems"
            : preview.Units.Count > MaxUnits ? $"more than {MaxUnits} units"
            : texts.Any(t => t.Length > MaxText) ? $"a name or message over {MaxText} characters"
            : null;
    }

    /// <summary>The leaves on <paramref name="node"/> that a re-keyed CA issued: planned, or refused (they stop working at retire); null when none.</summary>
    private HashSet<string>? Leaves(NodeRecord node, IReadOnlyList<CertificateAuthority> selected, RolloutPlan plan, List<RolloutTarget> targets,
        DateTimeOffset now, RolloutRequest request)
    {
        HashSet<string>? units = null;
        foreach (var occurrences in RolloutPlanner.Distinct(node.Inventory!))
        {
            var first = occurrences[0];
            var path = RolloutPlanner.DisplayPath(first);
            CertificateInfo certificate;
            try
            {
                certificate = CertificateInfo.Parse(first.Der.Span, $"{node.Name}:{path}");
            }
            catch (PkiException)
            {
                continue; // the renewal planner names a certificate that does not parse; nothing of it is a re-keyed CA's
            }
            if (certificate.IsCa || authorities.IssuerOf(certificate) is not { } issuer
                || !selected.Any(s => s.Certificate.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(issuer.Certificate.SubjectPublicKeyInfoDer)))
            {
                continue;
            }
            if (policy.RefusalOf(node, RolloutPlanner.Keyed(occurrences), certificate) is { } reason)
            {
                plan.Refused.Add(new RefusedCertificate
                {
                    Node = node.Name, Path = path, Subject = certificate.Subject,
                    Reason = $"{reason}; issued by {issuer.Certificate.Subject}, it stops being trusted when the old CA is retired: replace it before then",
                });
                continue;
            }
            plan.Certificates.Add(new PlannedCertificate
            {
                Node = node.Name, Path = path, Subject = certificate.Subject, KubeconfigUser = first.KubeconfigUser,
                NotAfter = Timestamp.FromDateTimeOffset(certificate.NotAfter),
                NewNotAfter = Timestamp.FromDateTimeOffset(RenewalValidity.NotAfter(certificate, now, request.LeafValidity())),
            });
            targets.Add(new RolloutTarget(node.Name, certificate.Sha256Fingerprint));
            (units ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(occurrences.SelectMany(o => o.UsedBy));
        }
        return units;
    }

    private static List<PlannedStep> Steps(IReadOnlyList<NodeRecord> nodes, Dictionary<string, RekeyPreview> previews,
        Dictionary<string, IReadOnlyCollection<string>> leafUnits, string stopAfter, int batchSize)
    {
        var steps = new List<PlannedStep>();
        var batch = 0;
        // sequences only order steps within a batch here; they are numbered 1..n at the end
        int Next() => steps.Count == 0 ? 1 : steps.Max(s => s.Sequence) + 1;
        void Coordinator(StepKind kind) =>
            steps.Add(new PlannedStep { Sequence = Next(), Batch = ++batch, Kind = kind, Node = RolloutPlanner.CoordinatorNode });
        void Phase(StepKind fileKind, IReadOnlyDictionary<string, IReadOnlyCollection<string>> unitsByNode, Func<string, IEnumerable<string>> files)
        {
            var first = Next() - 1;
            var firstBatch = batch;
            foreach (var step in RolloutStepOrder.Steps(nodes, unitsByNode, renewAuthorities: false, batchSize))
            {
                step.Sequence += first;
                step.Batch += firstBatch;
                if (step.Kind == StepKind.Install)
                {
                    step.Kind = fileKind;
                    step.Files.AddRange(files(step.Node));
                }
                steps.Add(step);
                batch = Math.Max(batch, step.Batch);
            }
        }
        RekeyPreview Preview(string node) => previews.GetValueOrDefault(node) ?? new RekeyPreview();
        var masters = nodes.Where(n => n.Role == NodeRole.Master).ToList();
        // after each phase, every master proves its etcd and kube-apiserver take clients of the old and the new CA
        void Gates()
        {
            if (masters.Count == 0)
            {
                return;
            }
            batch++;
            foreach (var master in masters)
            {
                steps.Add(new PlannedStep { Sequence = Next(), Batch = batch, Kind = StepKind.Gate, Node = master.Name });
            }
        }
        var trusting = previews.Where(p => p.Value.Files.Count > 0)
            .ToDictionary(p => p.Key, p => (IReadOnlyCollection<string>)p.Value.Units.ToList(), StringComparer.Ordinal);
        var signing = nodes.Where(n => n.Role == NodeRole.Master && Preview(n.Name).SigningFiles.Count > 0).ToList();

        Coordinator(StepKind.NewCa);
        Phase(StepKind.Trust, trusting, node => Preview(node).Files);
        Gates();
        if (stopAfter == "trust")
        {
            Coordinator(StepKind.Pause);
        }
        Coordinator(StepKind.SwitchCa);
        if (signing.Count > 0)
        {
            batch++;
            foreach (var node in signing)
            {
                steps.Add(new PlannedStep
                {
                    Sequence = Next(), Batch = batch, Kind = StepKind.SwitchSigning, Node = node.Name, Files = { Preview(node.Name).SigningFiles },
                });
            }
        }
        // the issue phase restarts what uses a re-issued leaf, and the controller manager wherever its signing pair switched
        var issuing = new Dictionary<string, IReadOnlyCollection<string>>(leafUnits, StringComparer.Ordinal);
        foreach (var node in signing)
        {
            var units = new HashSet<string>(issuing.GetValueOrDefault(node.Name) ?? [], StringComparer.Ordinal);
            units.UnionWith(Preview(node.Name).Units.Where(u => u.Contains("controller-manager", StringComparison.Ordinal)));
            issuing[node.Name] = units;
        }
        Phase(StepKind.Install, issuing, _ => []);
        foreach (var node in signing.Where(n => !leafUnits.ContainsKey(n.Name)))
        {
            // a master with nothing to re-issue still restarts its controller manager, but must not get an install step
            steps.RemoveAll(s => s.Kind == StepKind.Install && s.Node == node.Name);
        }
        Gates();
        if (stopAfter == "issue")
        {
            Coordinator(StepKind.Pause);
        }
        Phase(StepKind.Retire, trusting, node => Preview(node).TrustFiles);
        Gates();
        Coordinator(StepKind.RetireCa);
        // numbered again in running order: a master's install step removed above left a gap
        var ordered = steps.OrderBy(s => s.Batch).ThenBy(s => s.Sequence).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            ordered[i].Sequence = i + 1;
        }
        return ordered;
    }
}
