using System.Security.Cryptography;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Signing;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// Does one rollout step through the node's agent: renew the CAs here, install (CSRs from the node, signed
/// here, sent back), restart a unit behind its health gate, roll an install back. Step ids are
/// "&lt;rollout&gt;/&lt;sequence&gt;", so a step sent again after a coordinator restart is answered from the agent's journal.
/// </summary>
internal sealed class RolloutStepExecutor(
    IAgentGateway gateway,
    IFleetInventory inventory,
    ClusterAuthorities authorities,
    RenewalSigner signer,
    RekeyStepExecutor rekeys,
    RolloutStore store,
    AuditLog audit,
    CoordinatorOptions options,
    TimeProvider time)
{
    /// <summary>How often to look whether a node's agent is back (agents reconnect with a backoff from 1 s).</summary>
    private static readonly TimeSpan ReconnectPoll = TimeSpan.FromMilliseconds(250);

    /// <summary>A restart's answer comes after the agent's own gate timeout; leave it time to say so itself.</summary>
    private TimeSpan AnswerMargin => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, options.StepTimeout.Ticks));

    public static string StepId(string rolloutId, RolloutStep step) => $"{rolloutId}/{step.Sequence}";

    /// <summary>
    /// The step's outcome; agent and signing failures are failed outcomes, cancellation propagates. A node whose agent
    /// is away (say, still reconnecting after a coordinator restart) gets up to the step timeout to come back; a step
    /// sent again (<paramref name="resumed"/>) or to a node that came back first re-syncs the node's inventory.
    /// </summary>
    public async Task<StepOutcome> ExecuteAsync(Rollout rollout, RolloutStep step, bool resumed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(step);
        try
        {
            if (step.Kind.IsNodeStep())
            {
                var cameBack = await AwaitConnectionAsync(step.Node, cancellationToken).ConfigureAwait(false);
                if ((resumed || cameBack) && step.Kind == StepKind.Restart)
                {
                    await inventory.RefreshAsync(step.Node, cancellationToken).ConfigureAwait(false); // an install refreshes anyway
                }
            }
            return step.Kind switch
            {
                StepKind.RenewCa => RenewAuthorities(rollout.Request),
                StepKind.Install => await InstallAsync(rollout, step, cancellationToken).ConfigureAwait(false),
                StepKind.Restart => await RestartAsync(rollout, step, cancellationToken).ConfigureAwait(false),
                StepKind.NewCa => rekeys.NewCa(rollout),
                StepKind.Pause => RekeyStepExecutor.Pause(rollout, step),
                StepKind.SwitchCa => rekeys.SwitchCa(rollout),
                StepKind.RetireCa => rekeys.RetireCa(rollout),
                StepKind.Trust or StepKind.SwitchSigning or StepKind.Retire => await rekeys.NodeStepAsync(rollout, step, cancellationToken).ConfigureAwait(false),
                StepKind.Gate => await rekeys.GateAsync(rollout, step, cancellationToken).ConfigureAwait(false),
                _ => new StepOutcome(false, $"unknown step kind '{step.Kind.ToText()}'"),
            };
        }
        catch (AgentUnavailableException e)
        {
            // the operator needs which node, which step and whether it went silent or away
            var what = $"step {step.Sequence} ({step.Kind.ToText()}{(step.Unit.Length > 0 ? " " + step.Unit : "")})";
            var message = e.TimedOutAfter is { } waited
                ? $"node {step.Node} did not answer {what} within {waited.TotalSeconds:0} s; check its certfleet-agent service"
                : $"node {step.Node} lost its connection during {what}: {e.Message}";
            if (step.Kind.IsNodeStep())
            {
                Audit(rollout, step, step.Kind.WritesFiles() ? AuditKinds.InstallFailed : AuditKinds.RestartFailed, message);
            }
            return new StepOutcome(false, message);
        }
        catch (Exception e) when (e is SigningRefusedException or PkiException)
        {
            return new StepOutcome(false, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // a defect must halt the rollout where the operator sees it, not end the coordinator's runner
            return new StepOutcome(false, $"unexpected error in the coordinator: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Puts back the files of <paramref name="installStepId"/> on the node and restarts <paramref name="units"/> on them;
    /// with <paramref name="awaitConnection"/>, a node whose agent is away gets the step timeout to come back first.
    /// </summary>
    public async Task<StepOutcome> RollbackAsync(Rollout rollout, RolloutStep rollback, string installStepId, IEnumerable<string> units,
        CancellationToken cancellationToken, bool awaitConnection = false)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(rollback);
        var request = new RollbackRequest { RolloutId = rollout.Id, StepId = StepId(rollout.Id, rollback), InstallStepId = installStepId };
        request.Units.AddRange(units);
        try
        {
            if (awaitConnection)
            {
                await AwaitConnectionAsync(rollback.Node, cancellationToken).ConfigureAwait(false);
            }
            var result = await SendStepAsync(rollback.Node, new CoordinatorMessage { Rollback = request }, options.StepTimeout + AnswerMargin, cancellationToken).ConfigureAwait(false);
            Audit(rollout, rollback, result.Ok ? AuditKinds.RolledBack : AuditKinds.RollbackFailed, result.Message);
            return new StepOutcome(result.Ok, result.Message, result.ProbeOutput);
        }
        catch (AgentUnavailableException e)
        {
            Audit(rollout, rollback, AuditKinds.RollbackFailed, e.Message);
            return new StepOutcome(false, e.Message);
        }
    }

    /// <summary>True when the node was away and came back; throws when it stays away for the step timeout.</summary>
    private async Task<bool> AwaitConnectionAsync(string node, CancellationToken cancellationToken)
    {
        if (gateway.IsConnected(node))
        {
            return false;
        }
        var deadline = time.GetUtcNow() + options.StepTimeout;
        while (!gateway.IsConnected(node))
        {
            if (time.GetUtcNow() >= deadline)
            {
                throw new AgentUnavailableException(
                    $"node {node} is not connected and did not come back within {options.StepTimeout.TotalSeconds:0} s; check that its certfleet-agent service runs and can reach the coordinator");
            }
            await Task.Delay(ReconnectPoll, time, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    private StepOutcome RenewAuthorities(RolloutRequest request)
    {
        var renewed = new List<string>();
        foreach (var authority in authorities.All)
        {
            if (!authority.Certificate.IsSelfIssued)
            {
                renewed.Add($"{authority.Certificate.Subject} left as is (an intermediate CA is renewed by its parent)");
                continue;
            }
            var next = signer.RenewAuthority(authority, request.AuthorityValidity());
            renewed.Add($"{next.Subject} renewed until {next.NotAfter:yyyy-MM-dd} (serial {next.SerialHex})");
        }
        return new StepOutcome(true, string.Join("; ", renewed));
    }

    private async Task<StepOutcome> InstallAsync(Rollout rollout, RolloutStep step, CancellationToken cancellationToken)
    {
        var wanted = store.Targets(rollout.Id, step.Node).Select(t => t.Fingerprint).ToHashSet(StringComparer.Ordinal);
        var record = await inventory.RefreshAsync(step.Node, cancellationToken).ConfigureAwait(false);
        var refused = new List<string>();
        var present = (record.Inventory?.Certificates ?? [])
            .GroupBy(c => Fingerprint(c.Der.Span))
            .Where(g => wanted.Contains(g.Key))
            .ToDictionary(g => g.Key, g => g.FirstOrDefault(c => c.KeyState == KeyState.Matches) ?? g.First(), StringComparer.Ordinal);
        var request = new InstallRequest { RolloutId = rollout.Id, StepId = StepId(rollout.Id, step) };
        var leaves = new List<string>();
        foreach (var (fingerprint, reported) in present)
        {
            var certificate = CertificateInfo.Parse(reported.Der.Span, $"{step.Node}:{reported.Path}");
            if (reported.Owner == CertificateOwner.KubeletSelfSigned)
            {
                request.SelfSigned.Add(fingerprint); // renewed on the node with its own key; nothing to sign here
                request.SelfSignedDays = (int)rollout.Request.LeafValidity().TotalDays;
            }
            else if (!certificate.IsCa)
            {
                leaves.Add(fingerprint);
            }
            else if (rollout.Request.RenewAuthorities && authorities.SameAuthorityAs(certificate) is { } authority
                && authority.Certificate.Sha256Fingerprint != fingerprint)
            {
                request.Replacements.Add(new Replacement { OldFingerprint = fingerprint, CertificateDer = ByteString.CopyFrom(authority.Certificate.Der) });
            }
        }
        if (leaves.Count > 0)
        {
            var csrRequest = new CsrRequest();
            csrRequest.Fingerprints.AddRange(leaves);
            var answer = await gateway.SendAsync(step.Node, new CoordinatorMessage { CsrRequest = csrRequest }, options.StepTimeout, cancellationToken).ConfigureAwait(false);
            if (answer.BodyCase != AgentMessage.BodyOneofCase.Csrs)
            {
                return new StepOutcome(false, $"{step.Node} answered the CSR request with {answer.BodyCase}, not CSRs");
            }
            var csrs = CsrAnswer.From(answer.Csrs, leaves);
            if (csrs.IgnoredNote(step.Node, leaves.Count) is { } ignored)
            {
                AuditIgnoredCsrs(rollout, step, ignored);
            }
            var unanswered = leaves.Where(f => !csrs.First.ContainsKey(f)).ToList();
            if (unanswered.Count > 0)
            {
                return new StepOutcome(false, $"{step.Node} sent no CSR for {string.Join(", ", unanswered.Select(f => present[f].Path))}");
            }
            // every asked CSR is looked at before any is signed: a node that cannot make one gets nothing issued in this step
            if (leaves.FirstOrDefault(f => !string.IsNullOrEmpty(csrs.First[f].Error)) is { } failed)
            {
                return new StepOutcome(false, $"{step.Node} could not make a CSR for {present[failed].Path}: {csrs.First[failed].Error}");
            }
            foreach (var fingerprint in leaves)
            {
                var reported = present[fingerprint];
                try
                {
                    request.Replacements.Add(new Replacement { OldFingerprint = fingerprint, CertificateDer = ByteString.CopyFrom(Renewal(rollout, record, reported, csrs.First[fingerprint])) });
                }
                catch (SigningRefusedException e)
                {
                    // a refused certificate is simply not installed (the signer audited why); the rest goes on
                    refused.Add($"{e.Refusal.Path} refused: {e.Refusal.Reason}");
                    store.AddRefused(rollout.Id, e.Refusal);
                }
            }
        }
        if (request.Replacements.Count == 0 && request.SelfSigned.Count == 0 && refused.Count > 0)
        {
            // everything on this node was refused: nothing to write, and nothing there changes
            return new StepOutcome(true, string.Join("; ", refused));
        }
        var result = await SendStepAsync(step.Node, new CoordinatorMessage { Install = request }, options.StepTimeout, cancellationToken).ConfigureAwait(false);
        var message = result.Ok ? result.Message + MissingNote(rollout, record, wanted, present) : result.Message;
        if (refused.Count > 0)
        {
            message = $"{message}; {string.Join("; ", refused)}";
        }
        Audit(rollout, step, result.Ok ? AuditKinds.Installed : AuditKinds.InstallFailed, message);
        return new StepOutcome(result.Ok, message, result.ProbeOutput);
    }

    /// <summary>
    /// Why planned certificates were not on the node. After a coordinator restart or a failover, the step is sent
    /// again and the node already holds this rollout's renewals (the earlier attempt installed them): say that, not
    /// that they went away.
    /// </summary>
    private string MissingNote(Rollout rollout, NodeRecord record, HashSet<string> wanted, Dictionary<string, ReportedCertificate> present)
    {
        var missing = wanted.Where(f => !present.ContainsKey(f)).ToList();
        if (missing.Count == 0)
        {
            return "";
        }
        var onNode = (record.Inventory?.Certificates ?? []).Select(c => Fingerprint(c.Der.Span)).ToHashSet(StringComparer.Ordinal);
        var installedBefore = missing.Count(f => store.RenewedCertificate(rollout.Id, f) is { } der
            && onNode.Contains(Fingerprint(der)));
        var notes = new List<string>();
        if (installedBefore > 0)
        {
            notes.Add($"{installedBefore} planned certificate(s) already held this rollout's renewal: an earlier attempt of this step installed it");
        }
        if (missing.Count > installedBefore)
        {
            notes.Add($"{missing.Count - installedBefore} planned certificate(s) were no longer on the node");
        }
        return $" ({string.Join("; ", notes)})";
    }

    /// <summary>Signs once per certificate per rollout: nodes holding a copy of the same certificate get the same renewal.</summary>
    private byte[] Renewal(Rollout rollout, NodeRecord node, ReportedCertificate reported, GeneratedCsr csr)
    {
        // The node proves possession with its own CSR even when the renewal was already signed for another copy.
        var kept = signer.Sign(node, reported, csr.CsrDer.Span, rollout.Request.LeafValidity(), rollout.Id, signed =>
        {
            store.SaveRenewedCertificate(rollout.Id, csr.Fingerprint, signed.Der); // first one wins
            return CertificateInfo.Parse(store.RenewedCertificate(rollout.Id, csr.Fingerprint)!, $"{node.Name}:{reported.Path}");
        });
        return kept.Der;
    }

    private async Task<StepOutcome> RestartAsync(Rollout rollout, RolloutStep step, CancellationToken cancellationToken)
    {
        var request = new RestartRequest
        {
            RolloutId = rollout.Id,
            StepId = StepId(rollout.Id, step),
            Unit = step.Unit,
            TimeoutSeconds = (int)Math.Ceiling(options.StepTimeout.TotalSeconds),
        };
        var result = await SendStepAsync(step.Node, new CoordinatorMessage { Restart = request }, options.StepTimeout + AnswerMargin, cancellationToken).ConfigureAwait(false);
        Audit(rollout, step, result.Ok ? AuditKinds.Restarted : AuditKinds.RestartFailed, result.Message);
        return new StepOutcome(result.Ok, result.Message, result.ProbeOutput);
    }

    private async Task<StepResult> SendStepAsync(string node, CoordinatorMessage message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var answer = await gateway.SendAsync(node, message, timeout, cancellationToken).ConfigureAwait(false);
        return answer.BodyCase == AgentMessage.BodyOneofCase.StepResult
            ? answer.StepResult
            : throw new AgentUnavailableException($"{node} answered {message.BodyCase} with {answer.BodyCase}, not a step result");
    }

    /// <summary>One record per answer, whatever its size: the extras are not signed, so they are refused, once.</summary>
    private void AuditIgnoredCsrs(Rollout rollout, RolloutStep step, string note) =>
        audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator")
        {
            Node = step.Node, RolloutId = rollout.Id, Reason = note, Detail = $"step {step.Sequence}: CSRs not asked for, not signed",
        });

    private void Audit(Rollout rollout, RolloutStep step, string kind, string message) =>
        audit.Append(new AuditRecord(kind, "coordinator")
        {
            Node = step.Node, Path = step.Unit, RolloutId = rollout.Id, Detail = $"step {step.Sequence}: {message}",
            Reason = kind.EndsWith("-failed", StringComparison.Ordinal) ? message : "",
        });

    private static string Fingerprint(ReadOnlySpan<byte> der) => Convert.ToHexString(SHA256.HashData(der));
}
