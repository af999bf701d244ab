using CertFleet.Agent.Connection;
using Grpc.Core;

namespace CertFleet.Agent.Tests.Connection;

/// <summary>The order in which the agent dials the coordinators of a group.</summary>
public sealed class CoordinatorGroupTests
{
    private static readonly Uri A = new("https://10.0.0.1:7443");
    private static readonly Uri B = new("https://10.0.0.2:7443");
    private static readonly Uri C = new("https://10.0.0.3:7443");

    [Fact]
    public void Failed_Unreachable_TriesEachInOrderThenEndsThePassAndStartsOverAtTheFirst()
    {
        var group = new CoordinatorGroup([A, B, C]);

        Assert.False(group.Failed(Unreachable()));
        Assert.Equal(B, group.Current);
        Assert.False(group.Failed(Unreachable()));
        Assert.Equal(C, group.Current);
        Assert.True(group.Failed(Unreachable()));
        Assert.Equal(A, group.Current);
    }

    [Fact]
    public void Failed_StandbyNamesTheActiveInTheList_TriesThatOneNextAndNeverOneAlreadyFailedInThePass()
    {
        var group = new CoordinatorGroup([A, B, C]);

        Assert.False(group.Failed(Standby("https://10.0.0.3:7443/")));
        Assert.Equal(C, group.Current);
        // a stale pointer back to A, which failed in this pass: the one not yet tried instead of a loop
        Assert.False(group.Failed(Standby("https://10.0.0.1:7443")));
        Assert.Equal(B, group.Current);
    }

    [Fact]
    public void Failed_StandbyNamesACoordinatorNotListed_IsNotFollowed()
    {
        var group = new CoordinatorGroup([A, B]);

        Assert.False(group.Failed(Standby("https://evil.example:7443")));

        Assert.Equal(B, group.Current);
    }

    [Fact]
    public void Succeeded_AfterFailures_TheNextFailureStartsANewPassFromTheOneThatAnswered()
    {
        var group = new CoordinatorGroup([A, B, C]);
        group.Failed(Unreachable());
        group.Succeeded(); // connected to B, which later goes away

        Assert.False(group.Failed(Unreachable()));
        Assert.Equal(C, group.Current);
        Assert.False(group.Failed(Unreachable()));
        Assert.Equal(A, group.Current);
        Assert.True(group.Failed(Unreachable()));
    }

    [Fact]
    public void Failed_OneCoordinator_EveryFailureEndsThePassAsBeforeGroups()
    {
        var group = new CoordinatorGroup([A]);

        Assert.True(group.Failed(Unreachable()));
        Assert.True(group.Failed(Standby("https://10.0.0.1:7443")));
        Assert.Equal(A, group.Current);
    }

    private static RpcException Unreachable() => new(new Status(StatusCode.Unavailable, "Error connecting to subchannel."));

    private static RpcException Standby(string active) =>
        new(new Status(StatusCode.Unavailable, "a standby of its coordinator group"), new Metadata { { CoordinatorGroup.ActiveTrailer, active } });
}
