using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CertFleet.Coordinator.State.Transfer;

/// <summary>
/// Copies one state database into another (in practice: a coordinator's SQLite state.db into an empty PostgreSQL
/// database), table by table in one transaction of the target, keeping every value (the audit trail's sequence
/// numbers too), then reads both back and compares every row. The runtime tables (lease, members) are not copied:
/// they describe coordinators that run, and the target's group starts afresh.
/// </summary>
internal static class StateTransfer
{
    /// <summary>The tables copied, parents before children, each with its columns and the order its rows compare in.</summary>
    private static readonly (string Table, string Columns, string Order)[] Tables =
    [
        ("nodes", "name, role, enrolled_at, last_seen, last_report, inventory, identity_serial, previous_serial, report_refusal", "name"),
        ("enrollment_tokens", "hash, node, role, created_at, expires_at, used_at, used_by", "hash"),
        ("rollouts", "id, created_at, state, automatic, finished_at, halt_reason, request, refused", "id"),
        ("rollout_steps", "rollout_id, sequence, batch, kind, node, unit, state, message, probe_output, started_at, finished_at", "rollout_id, sequence"),
        ("rollout_targets", "rollout_id, node, fingerprint", "rollout_id, node, fingerprint"),
        ("rollout_certificates", "rollout_id, old_fingerprint, der", "rollout_id, old_fingerprint"),
        ("audit", "sequence, time, kind, actor, node, path, subject, serial, not_after, previous_serial, reason, rollout_id, detail", "sequence"),
        ("coordinator_group", "name, value", "name"),
        ("authority_certificates", "key_id, pem, not_after, saved_at", "key_id"),
    ];

    /// <summary>Rows per table in <paramref name="database"/>: what a transfer copies.</summary>
    public static IReadOnlyList<(string Table, long Rows)> Count(StateDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        using var connection = database.Open();
        return Tables.Select(t => (t.Table, connection.Count($"SELECT COUNT(*) FROM {t.Table}"))).ToList();
    }

    /// <summary>
    /// Throws <see cref="StateSchemaException"/> naming what <paramref name="target"/> holds when it holds any state:
    /// a copy goes into an empty database only. Also called before the source is opened, which migrates it.
    /// </summary>
    public static void RefuseHeld(StateDatabase target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (Count(target).Where(t => t.Rows > 0).ToList() is { Count: > 0 } held)
        {
            throw new StateSchemaException($"{target.Path} already holds state ({string.Join(", ", held.Select(t => $"{t.Rows} {t.Table}"))}); "
                + "migrate-state copies into an empty database only, so nothing was written. Create a new database "
                + "(createdb) and give it with --to");
        }
    }

    /// <summary>
    /// Copies every table of <paramref name="source"/> into <paramref name="target"/>, which must hold no state (it
    /// throws <see cref="StateSchemaException"/> naming what it holds, having written nothing). Returns the rows copied.
    /// </summary>
    public static IReadOnlyList<(string Table, long Rows)> Copy(StateDatabase source, StateDatabase target)
    {
        ArgumentNullException.ThrowIfNull(source);
        RefuseHeld(target);
        using var from = source.Open();
        using var to = target.Open();
        using var transaction = target.Engine.BeginWrite(to);
        var copied = new List<(string, long)>();
        foreach (var (table, columns, _) in Tables)
        {
            var names = columns.Split(", ");
            var insert = $"INSERT INTO {table} ({columns}) {(table == "audit" ? target.Engine.KeepIdentity : "")} VALUES ({string.Join(", ", names.Select(n => "@" + n))})";
            long rows = 0;
            using var command = from.Command($"SELECT {columns} FROM {table}");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                to.Execute(insert, [.. names.Select((n, i) => ("@" + n, reader.IsDBNull(i) ? null : reader.GetValue(i)))]);
                rows++;
            }
            copied.Add((table, rows));
        }
        target.Engine.AfterIdentityInsert(to, "audit", "sequence");
        transaction.Commit();
        return copied;
    }

    /// <summary>
    /// The tables where the two databases differ, each with its first differing row's key: every row is read back from
    /// both, in key order, its values as text (bytes as their SHA-256), and compared. Empty when they are the same.
    /// </summary>
    public static IReadOnlyList<string> Differences(StateDatabase source, StateDatabase target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        using var from = source.Open();
        using var to = target.Open();
        var differences = new List<string>();
        foreach (var (table, columns, order) in Tables)
        {
            var sql = $"SELECT {columns} FROM {table} ORDER BY {order}";
            // sorted again here, ordinally: PostgreSQL orders text by the database's collation (en_US puts 'a' before
            // 'B', SQLite's binary order the other way round), which would pair rows that are not the same
            var left = from.Read(sql, Row).Order(StringComparer.Ordinal).ToList();
            var right = to.Read(sql, Row).Order(StringComparer.Ordinal).ToList();
            if (left.Count != right.Count)
            {
                differences.Add($"{table}: {left.Count} rows in {source.Path}, {right.Count} in {target.Path}");
                continue;
            }
            if (left.Zip(right).FirstOrDefault(pair => pair.First != pair.Second) is { First: not null } first)
            {
                var row = first.First.Replace('\u001f', ' ');
                differences.Add($"{table}: the row '{row[..Math.Min(80, row.Length)].TrimEnd()}' differs");
            }
        }
        return differences;
    }

    private static string Row(DbDataReader reader)
    {
        var text = new StringBuilder();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            text.Append(reader.IsDBNull(i) ? "NULL" : reader.GetValue(i) switch
            {
                byte[] bytes => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)),
                IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                // as the copy wrote it (StateCommands: NUL as U+2400)
                var value => value.ToString()?.Replace('\0', '\u2400'),
            }).Append('\u001f');
        }
        return text.ToString();
    }
}
