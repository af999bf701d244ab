using CertFleet.Cli.Tests.Fleet;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// `--ca-days` in the fleet's requests: plan sends it as renew does, so that a plan shows the CA expiry the renewal
/// will give; with --rekey-ca it is the new CA's validity too. Against the scripted coordinator of the re-key tests.
/// </summary>
[Collection(RekeyCoordinator.Collection)]
public sealed class CaDaysTests
{
    private readonly RekeyCoordinator _coordinator;

    public CaDaysTests(RekeyCoordinator coordinator)
    {
        _coordinator = coordinator;
        coordinator.Reset();
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("renew")]
    public async Task CaWithCaDays_PlanOrRenew_SendsThatValidity(string command)
    {
        var (exitCode, _, error) = await _coordinator.RunAsync(command, "--all", "--ca", "--ca-days", "730");

        Assert.True(exitCode == 0, error);
        var request = Assert.Single(_coordinator.Rollouts.Requests);
        Assert.Equal((true, 730, null), (request.RenewAuthorities, request.AuthorityDays, request.RekeyCa));
    }

    [Fact]
    public async Task PlanRekeyCa_CaDaysNotGiven_SendsTheDefaultOf3650ForTheNewCa()
    {
        var (exitCode, _, error) = await _coordinator.RunAsync("plan", "--rekey-ca", "kubernetes-ca");

        Assert.True(exitCode == 0, error);
        Assert.Equal(3650, Assert.Single(_coordinator.Rollouts.Requests).RekeyCa.CaDays);
    }
}
