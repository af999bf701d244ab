using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.State;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Enrollment;

public sealed class TokenStoreTests : IDisposable
{
    private readonly string _folder = ScratchDirectory.Create("tokens");

    [Fact]
    public async Task Redeem_SameTokenRacedByManyAgents_ExactlyOneEnrolls()
    {
        var store = new TokenStore(new StateDatabase(_folder), TimeProvider.System);
        var token = store.Create(null, NodeRole.Worker, null);

        var attempts = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => Task.Run(() =>
        {
            try
            {
                store.Redeem(token.Secret, $"worker-{i}", (_, role, _) => role);
                return "enrolled";
            }
            catch (EnrollmentRefusedException e)
            {
                return e.Message;
            }
        })));

        Assert.Single(attempts, a => a == "enrolled");
        Assert.All(attempts.Where(a => a != "enrolled"), a => Assert.StartsWith("the token was already used", a, StringComparison.Ordinal));
    }

    [Fact]
    public void Create_TtlBeyondThirtyDays_RefusedWithTheLimit()
    {
        var store = new TokenStore(new StateDatabase(_folder), TimeProvider.System);

        var error = Assert.Throws<ArgumentException>(() => store.Create(null, NodeRole.Worker, TimeSpan.FromDays(31)));

        Assert.Contains("at most 30 days", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => ScratchDirectory.Delete(_folder);
}
