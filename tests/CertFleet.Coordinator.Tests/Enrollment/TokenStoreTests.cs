using System.Data.Common;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.Tests.State;

namespace CertFleet.Coordinator.Tests.Enrollment;

/// <summary>
/// Bootstrap tokens on each engine (TokenStoreOnSqliteTests, TokenStoreOnPostgresTests), raced by agents on one
/// coordinator and on two coordinators of a group (two StateDatabase objects on one database).
/// </summary>
public abstract class TokenStoreTests(StateEngineUnderTest engine) : StateStoreTests(engine)
{
    private const string Enrolled = "enrolled";

    [Fact]
    public async Task Redeem_SameTokenRacedByManyAgents_ExactlyOneEnrolls()
    {
        var store = new TokenStore(Database, TimeProvider.System);
        var token = store.Create(null, NodeRole.Worker, null);

        var attempts = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => Task.Run(() => Attempt(store, token.Secret, $"worker-{i}"))));

        Assert.Single(attempts, a => a == Enrolled);
        Assert.All(attempts.Where(a => a != Enrolled), a => Assert.StartsWith("the token was already used", a, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Redeem_SameTokenAtTwoCoordinatorsAtOnce_ExactlyOneEnrolls()
    {
        TokenStore first = new(Database, TimeProvider.System), second = new(Engine.OpenAgain(Database), TimeProvider.System);
        for (var round = 0; round < 10; round++)
        {
            var token = first.Create(null, NodeRole.Worker, null);

            var attempts = await AtOnce(
                () => Attempt(first, token.Secret, $"worker-{round}-a"),
                () => Attempt(second, token.Secret, $"worker-{round}-b"));

            Assert.Single(attempts, a => a == Enrolled);
            Assert.StartsWith("the token was already used", Assert.Single(attempts, a => a != Enrolled), StringComparison.Ordinal);
        }
        Assert.Equal(10, new NodeStore(Database, TimeProvider.System).All().Count);
    }

    [Fact]
    public async Task Redeem_TwoTokensForOneNewNameAtTwoCoordinatorsAtOnce_OneEnrollsAndIsNotOverwritten()
    {
        TokenStore first = new(Database, TimeProvider.System), second = new(Engine.OpenAgain(Database), TimeProvider.System);
        var nodes = new NodeStore(Database, TimeProvider.System);
        for (var round = 0; round < 10; round++)
        {
            var node = $"worker-{round}";
            var tokens = new[] { first.Create(null, NodeRole.Worker, null), first.Create(null, NodeRole.Master, null) };

            var attempts = await AtOnce(
                () => Attempt(first, tokens[0].Secret, node, "serial-a"),
                () => Attempt(second, tokens[1].Secret, node, "serial-b"));

            var winner = Array.IndexOf(attempts, Enrolled);
            Assert.Single(attempts, a => a == Enrolled);
            Assert.StartsWith($"node {node} is already enrolled", attempts[1 - winner], StringComparison.Ordinal);
            var stored = nodes.Find(node)!;
            Assert.Equal((winner == 0 ? "serial-a" : "serial-b", tokens[winner].Role), (stored.IdentitySerial, stored.Role));
            // the loser's token was not used up: the enrollment it was for wrote nothing
            Assert.True(first.IsRedeemable(tokens[1 - winner].Secret));
        }
    }

    [Fact]
    public void Create_TtlBeyondThirtyDays_RefusedWithTheLimit()
    {
        var store = new TokenStore(Database, TimeProvider.System);

        var error = Assert.Throws<ArgumentException>(() => store.Create(null, NodeRole.Worker, TimeSpan.FromDays(31)));

        Assert.Contains("at most 30 days", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An agent's enrollment with <paramref name="secret"/>, as EnrollmentService does it: "enrolled" or why it was refused.</summary>
    private string Attempt(TokenStore store, string secret, string node, string serial = "01")
    {
        try
        {
            return store.Redeem(secret, node, (connection, role, boundToNode) => Enroll(connection, node, role, boundToNode, serial));
        }
        catch (EnrollmentRefusedException e)
        {
            return e.Message;
        }
    }

    private string Enroll(DbConnection connection, string node, NodeRole role, bool boundToNode, string serial)
    {
        if (!boundToNode && NodeStore.Exists(connection, node))
        {
            throw new EnrollmentRefusedException($"node {node} is already enrolled");
        }
        new NodeStore(Database, TimeProvider.System).Enroll(connection, node, role, serial, null);
        return Enrolled;
    }
}
