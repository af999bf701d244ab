using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Enum = System.Enum;
using System.Data.Common;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// Rollouts and their steps in the state database, written after every transition so that a coordinator
/// restart resumes a running rollout at its first unfinished step. Raises <see cref="Changed"/> after each write.
/// States and kinds are kept in their text columns as operators read them (<see cref="RolloutText"/>), mapped here
/// and only here.
/// </summary>
internal sealed class RolloutStore(StateDatabase database)
{
    /// <summary>Raised with the rollout id after every change is committed.</summary>
    public event Action<string>? Changed;

    public void Create(Rollout rollout, IEnumerable<RolloutTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        using (var connection = database.Open())
        using (var transaction = database.BeginWrite(connection))
        {
            connection.Execute("""
                INSERT INTO rollouts (id, created_at, state, automatic, finished_at, halt_reason, request, refused)
                VALUES (@id, @created, @state, @automatic, NULL, '', @request, @refused)
                """,
                ("@id", rollout.Id), ("@created", rollout.CreatedAt), ("@state", rollout.State.ToText()),
                ("@automatic", rollout.Automatic), ("@request", rollout.Request.ToByteArray()),
                ("@refused", new Rollout { Refused = { rollout.Refused } }.ToByteArray()));
            foreach (var step in rollout.Steps)
            {
                SaveStep(connection, rollout.Id, step);
            }
            foreach (var target in targets)
            {
                connection.Execute("INSERT INTO rollout_targets VALUES (@id, @node, @fingerprint) ON CONFLICT DO NOTHING",
                    ("@id", rollout.Id), ("@node", target.Node), ("@fingerprint", target.Fingerprint));
            }
            transaction.Commit();
        }
        Changed?.Invoke(rollout.Id);
    }

    /// <summary>
    /// Moves the rollout from one of <paramref name="from"/> to <paramref name="to"/>, atomically, saving the given
    /// steps with it; false (and nothing saved) when it was in another state, e.g. aborted meanwhile.
    /// </summary>
    public bool Transition(string id, IReadOnlyCollection<RolloutState> from, RolloutState to, string haltReason, Timestamp? finishedAt, params IEnumerable<RolloutStep> steps)
    {
        ArgumentNullException.ThrowIfNull(from);
        using (var connection = database.Open())
        using (var transaction = database.BeginWrite(connection))
        {
            var names = from.Select((_, i) => $"@from{i}").ToList();
            var parameters = new List<(string, object?)> { ("@id", id), ("@state", to.ToText()), ("@finished", finishedAt), ("@reason", haltReason) };
            parameters.AddRange(from.Select((state, i) => (names[i], (object?)state.ToText())));
            if (connection.Execute(
                $"UPDATE rollouts SET state = @state, finished_at = @finished, halt_reason = @reason WHERE id = @id AND state IN ({string.Join(", ", names)})",
                [.. parameters]) == 0)
            {
                return false;
            }
            foreach (var step in steps)
            {
                SaveStep(connection, id, step);
            }
            transaction.Commit();
        }
        Changed?.Invoke(id);
        return true;
    }

    /// <summary>Saves new or changed steps (never the rollout's own state: that only moves through <see cref="Transition"/>).</summary>
    public void SaveSteps(string id, params IEnumerable<RolloutStep> steps)
    {
        using (var connection = database.Open())
        using (var transaction = database.BeginWrite(connection))
        {
            foreach (var step in steps)
            {
                SaveStep(connection, id, step);
            }
            transaction.Commit();
        }
        Changed?.Invoke(id);
    }

    /// <summary>Adds a refusal found while the rollout ran (at signing), so `renew` and `rollout show` list it with the plan's.</summary>
    public void AddRefused(string id, RefusedCertificate refusal)
    {
        using (var connection = database.Open())
        using (var transaction = database.BeginWrite(connection))
        {
            // read in the write, the row locked: two refusals found at once both stay
            var stored = connection.Scalar($"SELECT refused FROM rollouts WHERE id = @id {database.Engine.LockForUpdate}", ("@id", id)) as byte[];
            var refused = stored is null ? [] : Rollout.Parser.ParseFrom(stored).Refused.ToList();
            if (!refused.Contains(refusal))
            {
                refused.Add(refusal);
                connection.Execute("UPDATE rollouts SET refused = @refused WHERE id = @id",
                    ("@id", id), ("@refused", new Rollout { Refused = { refused } }.ToByteArray()));
            }
            transaction.Commit();
        }
        Changed?.Invoke(id);
    }

    public Rollout? Find(string id) => Query("WHERE id = @id", ("@id", id)).SingleOrDefault();

    /// <summary>The running or halted rollout, if there is one.</summary>
    public Rollout? FindUnfinished() =>
        Query("WHERE state IN (@running, @halted)", ("@running", RolloutState.Running.ToText()), ("@halted", RolloutState.Halted.ToText())).FirstOrDefault();

    /// <summary>Newest first.</summary>
    public IReadOnlyList<Rollout> List() => Query("");

    public IReadOnlyList<RolloutTarget> Targets(string rolloutId) => Targets(rolloutId, node: null);

    /// <summary>The targets on <paramref name="node"/> only (the primary key's prefix): an install step reading every target made a rollout quadratic in nodes.</summary>
    public IReadOnlyList<RolloutTarget> Targets(string rolloutId, string? node)
    {
        static RolloutTarget Target(DbDataReader row) => new(row.GetString(0), row.GetString(1));
        return node is null
            ? database.Read("SELECT node, fingerprint FROM rollout_targets WHERE rollout_id = @id ORDER BY node, fingerprint", Target, ("@id", rolloutId))
            : database.Read("SELECT node, fingerprint FROM rollout_targets WHERE rollout_id = @id AND node = @node ORDER BY fingerprint", Target,
                ("@id", rolloutId), ("@node", node));
    }

    /// <summary>The certificate this rollout already signed in place of <paramref name="oldFingerprint"/>, so every node that holds a copy gets the same one.</summary>
    public byte[]? RenewedCertificate(string rolloutId, string oldFingerprint)
    {
        using var connection = database.Open();
        return connection.Scalar("SELECT der FROM rollout_certificates WHERE rollout_id = @id AND old_fingerprint = @fp",
            ("@id", rolloutId), ("@fp", oldFingerprint)) as byte[];
    }

    public void SaveRenewedCertificate(string rolloutId, string oldFingerprint, byte[] der) =>
        database.Execute("INSERT INTO rollout_certificates VALUES (@id, @fp, @der) ON CONFLICT DO NOTHING", ("@id", rolloutId), ("@fp", oldFingerprint), ("@der", der));

    private List<Rollout> Query(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = database.Open();
        var rollouts = connection.Read(
            $"SELECT id, created_at, state, automatic, finished_at, halt_reason, request, refused FROM rollouts {where} ORDER BY created_at DESC, id DESC",
            reader => new Rollout
            {
                Id = reader.GetString(0),
                CreatedAt = Timestamp.FromDateTimeOffset(reader.GetTime(1)),
                State = RolloutText.ParseRolloutState(reader.GetString(2)),
                Automatic = reader.GetLong(3) != 0,
                FinishedAt = reader.GetTimestampOrNull(4),
                HaltReason = reader.GetString(5),
                Request = RolloutRequest.Parser.ParseFrom((byte[])reader.GetValue(6)),
                Refused = { Rollout.Parser.ParseFrom((byte[])reader.GetValue(7)).Refused },
            },
            parameters);
        foreach (var rollout in rollouts)
        {
            rollout.Steps.AddRange(Steps(connection, rollout.Id));
        }
        return rollouts;
    }

    private static List<RolloutStep> Steps(DbConnection connection, string rolloutId) =>
        connection.Read("""
            SELECT sequence, batch, kind, node, unit, state, message, probe_output, started_at, finished_at
            FROM rollout_steps WHERE rollout_id = @id ORDER BY sequence
            """,
            reader => new RolloutStep
            {
                Sequence = reader.GetInt(0),
                Batch = reader.GetInt(1),
                Kind = RolloutText.ParseStepKind(reader.GetString(2)),
                Node = reader.GetString(3),
                Unit = reader.GetString(4),
                State = RolloutText.ParseStepState(reader.GetString(5)),
                Message = reader.GetString(6),
                ProbeOutput = reader.GetString(7),
                StartedAt = reader.GetTimestampOrNull(8),
                FinishedAt = reader.GetTimestampOrNull(9),
            },
            ("@id", rolloutId));

    private static void SaveStep(DbConnection connection, string rolloutId, RolloutStep step) =>
        connection.Execute("""
            INSERT INTO rollout_steps
            VALUES (@id, @sequence, @batch, @kind, @node, @unit, @state, @message, @probe, @started, @finished)
            ON CONFLICT (rollout_id, sequence) DO UPDATE SET batch = excluded.batch, kind = excluded.kind, node = excluded.node,
                unit = excluded.unit, state = excluded.state, message = excluded.message, probe_output = excluded.probe_output,
                started_at = excluded.started_at, finished_at = excluded.finished_at
            """,
            ("@id", rolloutId), ("@sequence", step.Sequence), ("@batch", step.Batch), ("@kind", step.Kind.ToText()), ("@node", step.Node),
            ("@unit", step.Unit), ("@state", step.State.ToText()), ("@message", step.Message), ("@probe", step.ProbeOutput),
            ("@started", step.StartedAt), ("@finished", step.FinishedAt));

}
