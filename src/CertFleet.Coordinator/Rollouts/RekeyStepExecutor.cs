using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// The steps only a CA re-key has (docs/CA-REKEY.md): the coordinator's own (new-ca, switch-ca, retire-ca, pause) and
/// the nodes' (trust, switch-signing, retire: a RekeyRequest the agent journals like an install). A new CA's private key
/// goes only to a node that proves, in this step, that it holds the old CA's key (a CSR signed with it, checked here),
/// and only for switch-signing and retire; each sending is audited.
/// </summary>
internal sealed class RekeyStepExecutor(IAgentGateway gateway, IFleetInventory inventory, ClusterAuthorities authorities, AuditLog audit,
    CoordinatorOptions options, TimeProvider time)
{
    /// <summary>
    /// The two-way gate after a phase, on a master: clients of the old and of the new CA (certificates valid 15 minutes
    /// for a key made on the master for this step only) must both be accepted by its etcd and kube-apiserver after trust
    /// and issue; after retire the old one must be refused. An old CA whose key is no longer at hand is not probed.
    /// </summary>
    public async Task<StepOutcome> GateAsync(Rollout rollout, RolloutStep step, CancellationToken cancellationToken)
    {
        var stepId = RolloutStepExecutor.StepId(rollout.Id, step);
        var phase = rollout.Steps.Where(s => s.Batch < step.Batch && s.Kind is StepKind.Trust or StepKind.Install or StepKind.Retire)
            .MaxBy(s => s.Batch)?.Kind ?? StepKind.Trust;
        var answer = await gateway.SendAsync(step.Node, new CoordinatorMessage { CsrRequest = new CsrRequest { ProbeForStep = stepId } },
            options.StepTimeout, cancellationToken).ConfigureAwait(false);
        if (answer.BodyCase != AgentMessage.BodyOneofCase.Csrs || answer.Csrs.Csrs.FirstOrDefault(c => c.Fingerprint == "probe") is not { Error: "" } csr)
        {
            return new StepOutcome(false, $"{step.Node} made no probe CSR for the gate ({answer.BodyCase}); upgrade its agent");
        }
        var request = new GateRequest { RolloutId = rollout.Id, StepId = stepId };
        var notes = new List<string>();
        foreach (var rekey in authorities.Rekeys(rollout.Id))
        {
            var name = RekeySuccessors.CommonName(rekey.Old);
            var old = authorities.All.FirstOrDefault(a => rekey.Replaces(a.Certificate) && !ReferenceEquals(a, rekey.Successor));
            foreach (var (authority, label, expected) in new[]
            {
                (old, $"{name}, old CA", phase != StepKind.Retire),
                (rekey.Successor, $"{name}, new CA", true),
            })
            {
                if (authority is null)
                {
                    notes.Add($"{label}: its key is no longer at hand, not probed");
                    continue;
                }
                var certificate = Pki.Rekey.GateProbeCertificate.Issue(csr.CsrDer.Span, authority, time);
                request.Clients.Add(new GateClient
                {
                    Label = label, CertificateDer = ByteString.CopyFrom(certificate.Der), ExpectAccepted = expected,
                    OldCaDer = ByteString.CopyFrom(rekey.Old.Der), NewCaDer = ByteString.CopyFrom(rekey.Successor.Certificate.Der),
                });
                audit.Append(new AuditRecord(AuditKinds.Issued, "coordinator")
                {
                    Node = step.Node, RolloutId = rollout.Id, Subject = certificate.Subject, Serial = certificate.SerialHex, NotAfter = certificate.NotAfter,
                    Detail = $"step {step.Sequence} (gate): a {Pki.Rekey.GateProbeCertificate.Validity.TotalMinutes:0}-minute probe client of {label} " +
                        "for a key made on the master for this gate only; it names no Kubernetes user",
                });
            }
        }
        var result = await gateway.SendAsync(step.Node, new CoordinatorMessage { Gate = request }, options.StepTimeout, cancellationToken).ConfigureAwait(false);
        if (result.BodyCase != AgentMessage.BodyOneofCase.StepResult)
        {
            throw new AgentUnavailableException($"{step.Node} answered the gate with {result.BodyCase}, not a step result");
        }
        var message = notes.Count == 0 ? result.StepResult.Message : $"{result.StepResult.Message}; {string.Join("; ", notes)}";
        return new StepOutcome(result.StepResult.Ok, message, result.StepResult.ProbeOutput);
    }

    public StepOutcome NewCa(Rollout rollout)
    {
        var rekeys = authorities.Rekeys(rollout.Id);
        if (rekeys.Count == 0)
        {
            return new StepOutcome(false, $"the new CAs of re-key {rollout.Id} are not in {AuthorityRekeyFiles.Folder(options.StateDirectory)} " +
                "(was the state folder restored from an older backup?); abort this rollout and start the re-key again");
        }
        return new StepOutcome(true, string.Join("; ", rekeys.Select(r =>
            $"new CA for {r.Old.Subject}: {Pki.Rekey.AuthorityKeyType.Of(r.Successor.Certificate)}, serial {r.Successor.Certificate.SerialHex}, " +
            $"valid until {r.Successor.Certificate.NotAfter:yyyy-MM-dd}; key in {AuthorityRekeyFiles.FolderOf(options.StateDirectory, r)}")));
    }

    public StepOutcome SwitchCa(Rollout rollout)
    {
        authorities.AdvanceRekey(rollout.Id, RekeyState.Issue);
        foreach (var rekey in authorities.Rekeys(rollout.Id))
        {
            audit.Append(new AuditRecord(AuditKinds.CaSigningSwitched, "coordinator")
            {
                RolloutId = rollout.Id, Subject = rekey.Successor.Certificate.Subject, Serial = rekey.Successor.Certificate.SerialHex,
                NotAfter = rekey.Successor.Certificate.NotAfter, PreviousSerial = rekey.Old.SerialHex,
                Detail = "renewals are signed by the new CA from now on; the old one is still trusted until retire",
            });
        }
        return new StepOutcome(true, "the coordinator signs with the new CAs from now on; the old ones stay trusted until retire");
    }

    public StepOutcome RetireCa(Rollout rollout)
    {
        authorities.AdvanceRekey(rollout.Id, RekeyState.Retired);
        var folders = new List<string>();
        foreach (var rekey in authorities.Rekeys(rollout.Id))
        {
            var folder = AuthorityRekeyFiles.FolderOf(options.StateDirectory, rekey);
            folders.Add($"{rekey.Successor.Certificate.Subject}: {folder}/new.crt and new.key");
            audit.Append(new AuditRecord(AuditKinds.CaRetired, "coordinator")
            {
                RolloutId = rollout.Id, Subject = rekey.Old.Subject, Serial = rekey.Old.SerialHex, NotAfter = rekey.Old.NotAfter,
                Detail = $"replaced for good by serial {rekey.Successor.Certificate.SerialHex} ({folder})",
            });
        }
        return new StepOutcome(true, "the old CAs are retired; the coordinator signs with the new ones (point --ca-cert/--ca-key at copies of " +
            string.Join("; ", folders) + ")");
    }

    /// <summary>--stop-after: halts the rollout the first time; the copy a resume sends passes.</summary>
    public static StepOutcome Pause(Rollout rollout, RolloutStep step)
    {
        if (rollout.Steps.Any(s => s.Kind == StepKind.Pause && s.Sequence < step.Sequence && s.State == StepState.Failed))
        {
            return new StepOutcome(true, "resumed by the operator");
        }
        var (done, next) = rollout.Request.RekeyCa.StopAfter == "issue" ? ("issue", "retire") : ("trust", "issue");
        return new StepOutcome(false, $"stopped after the {done} phase as asked (--stop-after {done}); " +
            $"`certfleet rollout resume {rollout.Id}` goes on to the {next} phase");
    }

    public async Task<StepOutcome> NodeStepAsync(Rollout rollout, RolloutStep step, CancellationToken cancellationToken)
    {
        var action = step.Kind switch
        {
            StepKind.Trust => RekeyAction.Trust,
            StepKind.SwitchSigning => RekeyAction.SwitchSigning,
            _ => RekeyAction.Retire,
        };
        var rekeys = authorities.Rekeys(rollout.Id);
        var request = new RekeyRequest { RolloutId = rollout.Id, StepId = RolloutStepExecutor.StepId(rollout.Id, step), Action = action };
        var proved = action == RekeyAction.Trust ? [] : await ProvedKeysAsync(step.Node, rekeys, cancellationToken).ConfigureAwait(false);
        if (action == RekeyAction.SwitchSigning && proved.Count == 0)
        {
            var refusal = $"{step.Node} did not prove it holds an old CA's key, so no new CA key is sent to it; switch its signing files by hand";
            audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator") { Node = step.Node, RolloutId = rollout.Id, Reason = refusal, Detail = $"step {step.Sequence}" });
            return new StepOutcome(false, refusal);
        }
        foreach (var rekey in rekeys)
        {
            var authority = new RekeyedAuthority { OldCaDer = ByteString.CopyFrom(rekey.Old.Der), NewCaDer = ByteString.CopyFrom(rekey.Successor.Certificate.Der) };
            if (proved.Contains(rekey))
            {
                authority.NewCaKeyPem = rekey.Successor.Key.Algorithm.ExportPkcs8PrivateKeyPem() + "\n";
                audit.Append(new AuditRecord(AuditKinds.CaKeySent, "coordinator")
                {
                    Node = step.Node, RolloutId = rollout.Id, Subject = rekey.Successor.Certificate.Subject, Serial = rekey.Successor.Certificate.SerialHex,
                    Detail = $"step {step.Sequence} ({step.Kind.ToText()}): the node proved it holds the old CA key (serial {rekey.Old.SerialHex})",
                });
            }
            request.Authorities.Add(authority);
        }
        var answer = await gateway.SendAsync(step.Node, new CoordinatorMessage { Rekey = request }, options.StepTimeout, cancellationToken).ConfigureAwait(false);
        if (answer.BodyCase != AgentMessage.BodyOneofCase.StepResult)
        {
            throw new AgentUnavailableException($"{step.Node} answered the {step.Kind.ToText()} step with {answer.BodyCase}, not a step result");
        }
        var result = answer.StepResult;
        audit.Append(new AuditRecord(result.Ok ? AuditKinds.Installed : AuditKinds.InstallFailed, "coordinator")
        {
            Node = step.Node, RolloutId = rollout.Id, Detail = $"step {step.Sequence} ({step.Kind.ToText()}): {result.Message}",
            Reason = result.Ok ? "" : result.Message,
        });
        return new StepOutcome(result.Ok, result.Message, result.ProbeOutput);
    }

    /// <summary>
    /// The re-keys whose old key <paramref name="node"/> holds, as it proves now: its last report shows the old CA with
    /// its key, and a CSR made on the node for that CA certificate is signed by the old CA's key.
    /// </summary>
    private async Task<List<AuthorityRekey>> ProvedKeysAsync(string node, IReadOnlyList<AuthorityRekey> rekeys, CancellationToken cancellationToken)
    {
        var record = await inventory.RefreshAsync(node, cancellationToken).ConfigureAwait(false);
        var held = rekeys.Where(r => record.Inventory?.Certificates.Any(c => c.KeyState == KeyState.Matches && c.Der.Span.SequenceEqual(r.Old.Der)) == true).ToList();
        if (held.Count == 0)
        {
            return [];
        }
        var ask = new CsrRequest();
        ask.Fingerprints.AddRange(held.Select(r => r.Old.Sha256Fingerprint));
        var answer = await gateway.SendAsync(node, new CoordinatorMessage { CsrRequest = ask }, options.StepTimeout, cancellationToken).ConfigureAwait(false);
        if (answer.BodyCase != AgentMessage.BodyOneofCase.Csrs)
        {
            return [];
        }
        return held.Where(r => answer.Csrs.Csrs.Any(c => string.Equals(c.Fingerprint, r.Old.Sha256Fingerprint, StringComparison.OrdinalIgnoreCase)
            && SignedBy(c.CsrDer, r.Old.SubjectPublicKeyInfoDer))).ToList();
    }

    /// <summary>A PKCS#10 request whose signature verifies and whose key is <paramref name="subjectPublicKeyInfo"/>.</summary>
    private static bool SignedBy(ByteString csrDer, byte[] subjectPublicKeyInfo)
    {
        if (csrDer.Length is 0 or > 64 * 1024)
        {
            return false;
        }
        try
        {
            // LoadSigningRequest checks the request's signature with the key it carries
            var request = CertificateRequest.LoadSigningRequest(csrDer.ToByteArray(), HashAlgorithmName.SHA256, out _);
            return request.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(subjectPublicKeyInfo);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
