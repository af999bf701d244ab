using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Enum = System.Enum;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// Rollouts and their steps in the state database, written after every transition so that a coordinator
/// restart resumes a running rollout at its first unfinished step. Raises <see cref="Changed"/> after each write.
/// States and kinds are kept in their text columns as operators read them (<see cref="RolloutText"/>), mapped here
/// and only here.
/// </summary>
internal sealed class RolloutStore
{
    private readonly StateDatabase _database;

    public RolloutStore(StateDatabase database)
    {
        _database = database;
        _database.EnsureSchema("""
            CREATE TABLE IF NOT EXISTS rollouts (
                id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, state TEXT NOT NULL, automatic INTEGER NOT NULL,
                finished_at INTEGER, halt_reason TEXT NOT NULL, request BLOB NOT NULL, refused BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS rollout_steps (
                rollout_id TEXT NOT NULL REFERENCES rollouts(id), sequence INTEGER NOT NULL, batch INTEGER NOT NULL,
                kind TEXT NOT NULL, node TEXT NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL,
                probe_output TEXT NOT NULL, started_at INTEGER, finished_at INTEGER, PRIMARY KEY (rollout_id, sequence));
            CREATE TABLE IF NOT EXISTS rollout_targets (
                rollout_id TEXT NOT NULL REFERENCES rollouts(id), node TEXT NOT NULL, fingerprint TEXT NOT NULL,
                PRIMARY KEY (rollout_id, node, fingerprint));
            CREATE TABLE IF NOT EXISTS rollout_certificates (
                rollout_id TEXT NOT NULL REFERENCES rollouts(id), old_fingerprint TEXT NOT NULL, der BLOB NOT NULL,
                PRIMARY KEY (rollout_id, old_fingerprint));
            """);
    }

    /// <summary>Raised with the rollout id after every change is committed.</summary>
    public event Action<string>? Changed;

    public void Create(Rollout rollout, IEnumerable<RolloutTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        using (var connection = _database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            Execute(connection, transaction, """
                INSERT INTO rollouts (id, created_at, state, automatic, finished_at, halt_reason, request, refused)
                VALUES ($id, $created, $state, $automatic, NULL, '', $request, $refused)
                """,
                ("$id", rollout.Id), ("$created", Milliseconds(rollout.CreatedAt)), ("$state", rollout.State.ToText()),
                ("$automatic", rollout.Automatic ? 1 : 0), ("$request", rollout.Request.ToByteArray()),
                ("$refused", new Rollout { Refused = { rollout.Refused } }.ToByteArray()));
            foreach (var step in rollout.Steps)
            {
                SaveStep(connection, transaction, rollout.Id, step);
            }
            foreach (var target in targets)
            {
                Execute(connection, transaction, "INSERT OR IGNORE INTO rollout_targets VALUES ($id, $node, $fingerprint)",
                    ("$id", rollout.Id), ("$node", target.Node), ("$fingerprint", target.Fingerprint));
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
        using (var connection = _database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            var names = from.Select((_, i) => $"$from{i}").ToList();
            var parameters = new List<(string, object?)> { ("$id", id), ("$state", to.ToText()), ("$finished", Milliseconds(finishedAt)), ("$reason", haltReason) };
            parameters.AddRange(from.Select((state, i) => (names[i], (object?)state.ToText())));
            using (var command = Command(connection, transaction,
                $"UPDATE rollouts SET state = $state, finished_at = $finished, halt_reason = $reason WHERE id = $id AND state IN ({string.Join(", ", names)})",
                parameters.ToArray()))
            {
                if (command.ExecuteNonQuery() == 0)
                {
                    return false;
                }
            }
            foreach (var step in steps)
            {
                SaveStep(connection, transaction, id, step);
            }
            transaction.Commit();
        }
        Changed?.Invoke(id);
        return true;
    }

    /// <summary>Saves new or changed steps (never the rollout's own state: that only moves through <see cref="Transition"/>).</summary>
    public void SaveSteps(string id, params IEnumerable<RolloutStep> steps)
    {
        using (var connection = _database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            foreach (var step in steps)
            {
                SaveStep(connection, transaction, id, step);
            }
            transaction.Commit();
        }
        Changed?.Invoke(id);
    }

    /// <summary>Adds a refusal found while the rollout ran (at signing), so `renew` and `rollout show` list it with the plan's.</summary>
    public void AddRefused(string id, RefusedCertificate refusal)
    {
        using (var connection = _database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            var refused = Find(id)?.Refused.ToList() ?? [];
            if (!refused.Contains(refusal))
            {
                refused.Add(refusal);
                using var command = Command(connection, transaction, "UPDATE rollouts SET refused = $refused WHERE id = $id",
                    ("$id", id), ("$refused", new Rollout { Refused = { refused } }.ToByteArray()));
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        Changed?.Invoke(id);
    }

    public Rollout? Find(string id) => Query("WHERE id = $id", ("$id", id)).SingleOrDefault();

    /// <summary>The running or halted rollout, if there is one.</summary>
    public Rollout? FindUnfinished() =>
        Query("WHERE state IN ($running, $halted)", ("$running", RolloutState.Running.ToText()), ("$halted", RolloutState.Halted.ToText())).FirstOrDefault();

    /// <summary>Newest first.</summary>
    public IReadOnlyList<Rollout> List() => Query("");

    public IReadOnlyList<RolloutTarget> Targets(string rolloutId) => Targets(rolloutId, node: null);

    /// <summary>The targets on <paramref name="node"/> only (the primary key's prefix): an install step reading every target made a rollout quadratic in nodes.</summary>
    public IReadOnlyList<RolloutTarget> Targets(string rolloutId, string? node)
    {
        using var connection = _database.Open();
        using var command = node is null
            ? Command(connection, null, "SELECT node, fingerprint FROM rollout_targets WHERE rollout_id = $id ORDER BY node, fingerprint", ("$id", rolloutId))
            : Command(connection, null, "SELECT node, fingerprint FROM rollout_targets WHERE rollout_id = $id AND node = $node ORDER BY fingerprint",
                ("$id", rolloutId), ("$node", node));
        using var reader = command.ExecuteReader();
        var targets = new List<RolloutTarget>();
        while (reader.Read())
        {
            targets.Add(new RolloutTarget(reader.GetString(0), reader.GetString(1)));
        }
        return targets;
    }

    /// <summary>The certificate this rollout already signed in place of <paramref name="oldFingerprint"/>, so every node that holds a copy gets the same one.</summary>
    public byte[]? RenewedCertificate(string rolloutId, string oldFingerprint)
    {
        using var connection = _database.Open();
        using var command = Command(connection, null, "SELECT der FROM rollout_certificates WHERE rollout_id = $id AND old_fingerprint = $fp",
            ("$id", rolloutId), ("$fp", oldFingerprint));
        return command.ExecuteScalar() as byte[];
    }

    public void SaveRenewedCertificate(string rolloutId, string oldFingerprint, byte[] der)
    {
        using var connection = _database.Open();
        Execute(connection, null, "INSERT OR IGNORE INTO rollout_certificates VALUES ($id, $fp, $der)", ("$id", rolloutId), ("$fp", oldFingerprint), ("$der", der));
    }

    private List<Rollout> Query(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = _database.Open();
        var rollouts = new List<Rollout>();
        using (var command = Command(connection, null,
            $"SELECT id, created_at, state, automatic, finished_at, halt_reason, request, refused FROM rollouts {where} ORDER BY created_at DESC, id DESC", parameters))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var rollout = new Rollout
                {
                    Id = reader.GetString(0),
                    CreatedAt = Timestamp(reader.GetInt64(1)),
                    State = RolloutText.ParseRolloutState(reader.GetString(2)),
                    Automatic = reader.GetInt64(3) != 0,
                    FinishedAt = reader.IsDBNull(4) ? null : Timestamp(reader.GetInt64(4)),
                    HaltReason = reader.GetString(5),
                    Request = RolloutRequest.Parser.ParseFrom((byte[])reader.GetValue(6)),
                };
                rollout.Refused.AddRange(Rollout.Parser.ParseFrom((byte[])reader.GetValue(7)).Refused);
                rollouts.Add(rollout);
            }
        }
        foreach (var rollout in rollouts)
        {
            rollout.Steps.AddRange(Steps(connection, rollout.Id));
        }
        return rollouts;
    }

    private static IEnumerable<RolloutStep> Steps(SqliteConnection connection, string rolloutId)
    {
        using var command = Command(connection, null, """
            SELECT sequence, batch, kind, node, unit, state, message, probe_output, started_at, finished_at
            FROM rollout_steps WHERE rollout_id = $id ORDER BY sequence
            """, ("$id", rolloutId));
        using var reader = command.ExecuteReader();
        var steps = new List<RolloutStep>();
        while (reader.Read())
        {
            steps.Add(new RolloutStep
            {
                Sequence = reader.GetInt32(0),
                Batch = reader.GetInt32(1),
                Kind = RolloutText.ParseStepKind(reader.GetString(2)),
                Node = reader.GetString(3),
                Unit = reader.GetString(4),
                State = RolloutText.ParseStepState(reader.GetString(5)),
                Message = reader.GetString(6),
                ProbeOutput = reader.GetString(7),
                StartedAt = reader.IsDBNull(8) ? null : Timestamp(reader.GetInt64(8)),
                FinishedAt = reader.IsDBNull(9) ? null : Timestamp(reader.GetInt64(9)),
            });
        }
        return steps;
    }

    private static void SaveStep(SqliteConnection connection, SqliteTransaction transaction, string rolloutId, RolloutStep step) =>
        Execute(connection, transaction, """
            INSERT OR REPLACE INTO rollout_steps
            VALUES ($id, $sequence, $batch, $kind, $node, $unit, $state, $message, $probe, $started, $finished)
            """,
            ("$id", rolloutId), ("$sequence", step.Sequence), ("$batch", step.Batch), ("$kind", step.Kind.ToText()), ("$node", step.Node),
            ("$unit", step.Unit), ("$state", step.State.ToText()), ("$message", step.Message), ("$probe", step.ProbeOutput),
            ("$started", Milliseconds(step.StartedAt)), ("$finished", Milliseconds(step.FinishedAt)));

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            if (value is Enum)
            {
                // it would be stored as its number, which no reader of the text columns expects
                throw new ArgumentException($"{name} is an enum: store states and kinds as their text (RolloutText)", nameof(parameters));
            }
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    private static long? Milliseconds(Timestamp? timestamp) => timestamp?.ToDateTimeOffset().ToUnixTimeMilliseconds();

    private static Timestamp Timestamp(long milliseconds) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));
}
