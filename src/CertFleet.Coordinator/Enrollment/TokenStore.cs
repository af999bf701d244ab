using System.Security.Cryptography;
using System.Text;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.State;
using System.Data.Common;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>
/// Bootstrap tokens: 256 random bits, URL-safe, stored only as SHA-256 hashes, single use, with a time to live and
/// optionally bound to one node name. A leaked database therefore enrolls nobody.
/// </summary>
internal sealed class TokenStore(StateDatabase database, TimeProvider time)
{
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaximumTimeToLive = TimeSpan.FromDays(30);

    public EnrollmentToken Create(string? node, NodeRole role, TimeSpan? timeToLive)
    {
        var ttl = timeToLive ?? DefaultTimeToLive;
        if (ttl <= TimeSpan.Zero || ttl > MaximumTimeToLive)
        {
            throw new ArgumentException($"the token's time to live must be more than 0 and at most {MaximumTimeToLive.TotalDays:0} days (--ttl 1h)");
        }
        if (node is not null && NodeNames.Problem(node) is { } problem)
        {
            throw new ArgumentException(problem);
        }
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var token = new EnrollmentToken(secret, node, role, now + ttl);
        database.Execute("INSERT INTO enrollment_tokens (hash, node, role, created_at, expires_at) VALUES (@hash, @node, @role, @created, @expires)",
            ("@hash", Hash(secret)), ("@node", node), ("@role", NodeRoles.Format(role)), ("@created", now), ("@expires", token.ExpiresAt));
        return token;
    }

    /// <summary>True when <paramref name="secret"/> is a known token, unused and unexpired (a read, no write).</summary>
    public bool IsRedeemable(string secret)
    {
        if (secret.Length == 0)
        {
            return false;
        }
        using var connection = database.Open(durable: false);
        return connection.Scalar("SELECT 1 FROM enrollment_tokens WHERE hash = @hash AND used_at IS NULL AND expires_at > @now",
            ("@hash", Hash(secret)), ("@now", time.GetUtcNow())) is not null;
    }

    /// <summary>
    /// Uses the token up for <paramref name="node"/>: a wrong, expired, used or other-node token throws
    /// <see cref="EnrollmentRefusedException"/> before <paramref name="enroll"/> runs. <paramref name="enroll"/>
    /// (given the connection, the token's role and whether the token was made for this node) does the enrollment's
    /// own checks and writes the node row in the same transaction; if it throws, the token is not used up and
    /// nothing is written.
    /// </summary>
    public T Redeem<T>(string secret, string node, Func<DbConnection, NodeRole, bool, T> enroll)
    {
        var now = time.GetUtcNow();
        using var connection = database.Open();
        // two agents racing with the same token, or two tokens for the same new name, take turns
        using var transaction = database.BeginWrite(connection);
        database.Engine.TakeTurns(connection);
        using var select = connection.Command("SELECT node, role, expires_at, used_at, used_by FROM enrollment_tokens WHERE hash = @hash",
            ("@hash", Hash(secret)));
        string? boundNode;
        NodeRole role;
        using (var reader = select.ExecuteReader())
        {
            if (!reader.Read())
            {
                throw new EnrollmentRefusedException("the token is not known to this coordinator (mistyped, or made by another coordinator); make a new one with `certfleet token create`");
            }
            boundNode = reader.GetStringOrNull(0);
            role = NodeRoles.Parse(reader.GetString(1));
            var expires = reader.GetTime(2);
            if (reader.GetTimeOrNull(3) is { } usedAt)
            {
                throw new EnrollmentRefusedException($"the token was already used (by node {reader.GetString(4)} at {usedAt:u}); tokens are single use, make a new one with `certfleet token create`");
            }
            if (now >= expires)
            {
                throw new EnrollmentRefusedException($"the token expired at {expires:u}; make a new one with `certfleet token create`");
            }
        }
        if (boundNode is not null && boundNode != node)
        {
            throw new EnrollmentRefusedException($"the token was made for node {boundNode}, not {node}; run the agent with --node {boundNode} or make a token for {node}");
        }
        var enrolled = enroll(connection, role, boundNode is not null);
        connection.Execute("UPDATE enrollment_tokens SET used_at = @now, used_by = @node WHERE hash = @hash",
            ("@now", now), ("@node", node), ("@hash", Hash(secret)));
        transaction.Commit();
        return enrolled;
    }

    internal static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
