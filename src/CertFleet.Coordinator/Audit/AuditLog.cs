using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Audit;

/// <summary>
/// The append-only audit trail, a table in the coordinator's state database. This class only ever INSERTs and
/// SELECTs: there is no code path that changes or deletes a record, so the trail shows what happened even when a
/// later action undid it; triggers make the database itself refuse an UPDATE or DELETE of a record.
/// </summary>
internal sealed partial class AuditLog : IDisposable
{
    /// <summary>
    /// The most any text field of a record keeps (UTF-8 bytes), longer ones cut with a visible marker: generous for
    /// paths, subjects and probe output, and small enough that thirteen fields never come near a gRPC message.
    /// </summary>
    public const int MaxFieldBytes = 16 * 1024;

    private readonly Lock _writeLock = new();
    private readonly StateDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private DbConnection? _writer;
    private DbCommand? _insert;

    public AuditLog(StateDatabase database, TimeProvider time, ILogger<AuditLog> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        _time = time;
        _logger = logger;
    }

    /// <summary>Node removal, for the fleet's node-removal code: who removed <paramref name="node"/>.</summary>
    public void NodeRemoved(string node, string actor = "admin", string detail = "") =>
        Append(new AuditRecord(AuditKinds.NodeRemoved, actor) { Node = node, Detail = detail });

    public void Append(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!_database.Engine.OneWriterAtATime)
        {
            AppendConcurrently(record);
        }
        else
        {
            lock (_writeLock)
            {
                var insert = _insert ??= PrepareInsert(_writer = _database.Open());
                try
                {
                    Insert(_writer!, insert, record);
                }
                catch
                {
                    // a failed statement (disk full, locked past the busy timeout) starts over with a fresh connection
                    CloseWriter();
                    throw;
                }
            }
        }
        Log.Appended(_logger, record.Kind, record.Actor, record.Node, record.Path, record.Subject, record.Serial, record.Reason);
    }

    /// <summary>
    /// PostgreSQL: a pooled connection per record, no lock. Behind one shared writer every record waited for the
    /// round trips of the one before, and a batch of 2,000 issuances held 2,000 pool threads waiting on the lock.
    /// </summary>
    private void AppendConcurrently(AuditRecord record)
    {
        using var connection = _database.Open();
        using var insert = PrepareInsert(connection);
        Insert(connection, insert, record);
    }

    /// <summary>The record in a write transaction of its own: it carries the lease's fencing token, so a coordinator that lost the lease appends nothing.</summary>
    private void Insert(DbConnection connection, DbCommand insert, AuditRecord record)
    {
        using var transaction = _database.BeginWrite(connection);
        insert.Transaction = transaction;
        Set(insert, "@time", StateTime.ToText(_time.GetUtcNow()));
        Set(insert, "@kind", Bounded(record.Kind));
        Set(insert, "@actor", Bounded(record.Actor));
        Set(insert, "@node", Bounded(record.Node));
        Set(insert, "@path", Bounded(record.Path));
        Set(insert, "@subject", Bounded(record.Subject));
        Set(insert, "@serial", Bounded(record.Serial));
        Set(insert, "@notAfter", record.NotAfter is { } notAfter ? StateTime.ToText(notAfter) : DBNull.Value);
        Set(insert, "@previousSerial", Bounded(record.PreviousSerial));
        Set(insert, "@reason", Bounded(record.Reason));
        Set(insert, "@rollout", Bounded(record.RolloutId));
        Set(insert, "@detail", Bounded(record.Detail));
        insert.ExecuteNonQuery();
        transaction.Commit();
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            CloseWriter();
        }
    }

    /// <summary>
    /// The INSERT, prepared on <paramref name="connection"/>. On SQLite once, on a connection of its own (durable: every
    /// record is fsynced before Append returns): opening a pooled connection and preparing the statement for every
    /// record cost more than the insert itself, about 30 us of a renewal's 300 (docs/PERFORMANCE.md), and SQLite has one
    /// writer at a time anyway. (Npgsql keeps a prepared statement with its pooled connection.)
    /// </summary>
    private static DbCommand PrepareInsert(DbConnection connection)
    {
        var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO audit (time, kind, actor, node, path, subject, serial, not_after, previous_serial, reason, rollout_id, detail)
            VALUES (@time, @kind, @actor, @node, @path, @subject, @serial, @notAfter, @previousSerial, @reason, @rollout, @detail)
            """;
        foreach (var name in (string[])["@time", "@kind", "@actor", "@node", "@path", "@subject", "@serial", "@notAfter",
            "@previousSerial", "@reason", "@rollout", "@detail"])
        {
            var parameter = insert.CreateParameter();
            parameter.ParameterName = name;
            // typed before Prepare: PostgreSQL prepares a statement for its parameters' types
            parameter.DbType = System.Data.DbType.String;
            insert.Parameters.Add(parameter);
        }
        insert.Prepare();
        return insert;
    }

    private static void Set(DbCommand command, string name, object value) => command.Parameters[name].Value = value;

    // the same cut at append and at read: rows written before the bound existed are shown cut too. NUL (a hostile
    // certificate's CN=a\0.b) is shown as U+2400 on both engines: PostgreSQL's text refuses it, and an append with one failed
    private static string Bounded(string text) => BoundedText.Truncate(text.Replace('\0', '\u2400'), MaxFieldBytes);

    private void CloseWriter()
    {
        _insert?.Dispose();
        _insert = null;
        _writer?.Dispose();
        _writer = null;
    }

    /// <summary>How many records of <paramref name="kind"/> the trail holds: never less than before (append-only).</summary>
    public long Count(string kind)
    {
        using var connection = _database.Open();
        return connection.Count("SELECT COUNT(*) FROM audit WHERE kind = @kind", ("@kind", kind));
    }

    /// <summary>The sequence number of the newest record (0 for an empty trail): a reader that wants only what comes next starts after it.</summary>
    public long LastSequence()
    {
        using var connection = _database.Open();
        return connection.Count("SELECT COALESCE(MAX(sequence), 0) FROM audit");
    }

    /// <summary>The records of <paramref name="node"/> (null: every node) from <paramref name="since"/> on, oldest first.</summary>
    public IReadOnlyList<AuditEvent> Read(string? node, DateTimeOffset? since) => ReadPage(node, since, 0, int.MaxValue, long.MaxValue).Events;

    /// <summary>
    /// Like <see cref="Read"/>, from the record after <paramref name="afterSequence"/> on, at most <paramref name="maxRecords"/>
    /// records and about <paramref name="maxBytes"/> (always at least one record when there is one).
    /// </summary>
    public AuditPage ReadPage(string? node, DateTimeOffset? since, long afterSequence, int maxRecords, long maxBytes)
    {
        using var connection = _database.Open();
        using var command = connection.Command("""
            SELECT sequence, time, kind, actor, node, path, subject, serial, not_after, previous_serial, reason, rollout_id, detail
            FROM audit WHERE (CAST(@node AS TEXT) IS NULL OR node = @node) AND (CAST(@since AS TEXT) IS NULL OR time >= @since) AND sequence > @after
            ORDER BY sequence
            """,
            ("@node", string.IsNullOrEmpty(node) ? null : node), ("@since", since), ("@after", afterSequence));
        using var reader = command.ExecuteReader();
        var events = new List<AuditEvent>();
        long bytes = 0;
        while (reader.Read())
        {
            if (events.Count >= maxRecords)
            {
                return new AuditPage(events, More: true);
            }
            var audit = new AuditEvent
            {
                Sequence = reader.GetLong(0),
                Time = Timestamp.FromDateTimeOffset(reader.GetTime(1)),
                Kind = Bounded(reader.GetString(2)),
                Actor = Bounded(reader.GetString(3)),
                Node = Bounded(reader.GetString(4)),
                Path = Bounded(reader.GetString(5)),
                Subject = Bounded(reader.GetString(6)),
                Serial = Bounded(reader.GetString(7)),
                PreviousSerial = Bounded(reader.GetString(9)),
                Reason = Bounded(reader.GetString(10)),
                RolloutId = Bounded(reader.GetString(11)),
                Detail = Bounded(reader.GetString(12)),
            };
            audit.NotAfter = reader.GetTimestampOrNull(8);
            bytes += audit.CalculateSize();
            if (events.Count > 0 && bytes > maxBytes)
            {
                return new AuditPage(events, More: true);
            }
            events.Add(audit);
        }
        return new AuditPage(events, More: false);
    }

    private static partial class Log
    {
        // each record's own area logs the decision at Information; this line would say it twice
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Audit: {Kind} by {Actor} node={Node} path={Path} subject={Subject} serial={Serial} {Reason}")]
        public static partial void Appended(ILogger logger, string kind, string actor, string node, string path, string subject, string serial, string reason);
    }
}
