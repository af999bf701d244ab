using System.Net.Http;
using CertFleet.Coordinator.Group;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.Tests.State.Postgres;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Group;

/// <summary>
/// Two real coordinators (in-process hosts on their own loopback addresses, real gRPC) on one database of a private
/// PostgreSQL server: one active, one standby, as operators run a group.
/// </summary>
public sealed class CoordinatorGroupTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Standby_RefusesWritesWithTheActiveOnesUrl_AndServesStatusListingTheGroup()
    {
        var url = await postgres.Server.CreateDatabaseAsync($"group_a_{Environment.ProcessId}");
        await using var first = await Start(url, "127.0.71.1", "127.0.71.1:9100");
        await using var second = await Start(url, "127.0.71.2", "127.0.71.2:9100", copyFleetCaFrom: first);

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await second.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1", Role = "worker" }));
        var status = await second.Admin().GetStatusAsync(new StatusRequest());

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains($"the active one is {first.Url}", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(first.Url, refused.Trailers.GetValue(StandbyInterceptor.ActiveTrailer));
        Assert.Equal([(first.Url, "active", false), (second.Url, "standby", true)],
            status.Coordinators.Select(c => (c.Url, c.Role, c.Answering)));
        Assert.All(status.Coordinators, c => Assert.NotNull(c.LastSeen));
        // the active one still takes the write
        var token = await first.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1", Role = "worker" });
        Assert.NotEmpty(token.Token);
        Assert.Equal("certfleet_coordinator_active 1", await ActiveMetric("127.0.71.1:9100"));
        Assert.Equal("certfleet_coordinator_active 0", await ActiveMetric("127.0.71.2:9100"));
    }

    [Fact]
    public async Task Standby_RefusesAnAgentsStream_AndEnrollment()
    {
        var url = await postgres.Server.CreateDatabaseAsync($"group_b_{Environment.ProcessId}");
        await using var first = await Start(url, "127.0.71.3");
        await using var second = await Start(url, "127.0.71.4", copyFleetCaFrom: first);

        var enroll = await Assert.ThrowsAsync<RpcException>(async () =>
            await second.Agent().EnrollAsync(new EnrollRequest { Node = "worker-1", Token = "whatever" }));
        var discover = await second.Agent().DiscoverAsync(new DiscoverRequest());

        Assert.Equal(StatusCode.Unavailable, enroll.StatusCode);
        Assert.Equal(first.Url, enroll.Trailers.GetValue(StandbyInterceptor.ActiveTrailer));
        // the fleet CA is the group's: an agent pins the same one whichever coordinator it asks
        Assert.Equal((await first.Agent().DiscoverAsync(new DiscoverRequest())).FleetCaDer, discover.FleetCaDer);
    }

    [Fact]
    public async Task Stop_OfTheActiveOne_HandsTheLeaseToTheStandbyAtItsNextRound()
    {
        var url = await postgres.Server.CreateDatabaseAsync($"group_c_{Environment.ProcessId}");
        var first = await Start(url, "127.0.71.5");
        await using var second = await Start(url, "127.0.71.6", copyFleetCaFrom: first);
        var lease = second.Services.GetRequiredService<CoordinatorLease>();
        Assert.False(lease.IsActive);

        await first.DisposeAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!lease.IsActive && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
        }

        Assert.True(lease.IsActive, "the standby did not take the lease a stopped coordinator gave up");
        // a clean stop gives the lease up: the standby does not wait for it to expire
        Assert.True(clock.Elapsed < Lease, $"took {clock.Elapsed}");
        var token = await second.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1", Role = "worker" });
        Assert.NotEmpty(token.Token);
    }

    [Fact]
    public async Task Start_WithAnotherFleetCa_IsRefusedNamingWhatToCopy()
    {
        var url = await postgres.Server.CreateDatabaseAsync($"group_d_{Environment.ProcessId}");
        await using var first = await Start(url, "127.0.71.7");

        var refused = await Assert.ThrowsAsync<StateSchemaException>(() => Start(url, "127.0.71.8"));

        Assert.Contains("fleet CA", refused.Message, StringComparison.Ordinal);
        Assert.Contains("copy fleet-ca.crt and fleet-ca.key", refused.Message, StringComparison.Ordinal);
        var status = await first.Admin().GetStatusAsync(new StatusRequest());
        Assert.Equal([first.Url], status.Coordinators.Select(c => c.Url));
    }

    private Task<TestCoordinator> Start(string url, string address, string? metrics = null, TestCoordinator? copyFleetCaFrom = null)
    {
        var state = ScratchDirectory.Create("group-coordinator");
        if (copyFleetCaFrom is not null)
        {
            foreach (var file in (string[])["fleet-ca.crt", "fleet-ca.key"])
            {
                File.Copy(Path.Combine(copyFleetCaFrom.StateDirectory, file), Path.Combine(state, file));
            }
        }
        return TestCoordinator.StartAsync($"{address}:9443", state, metricsListen: metrics, adjust: options => options with
        {
            Database = url,
            DatabasePasswordFile = postgres.Server.PasswordFile,
            LeaseDuration = Lease,
        });
    }

    private static async Task<string> ActiveMetric(string listen)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://{listen}/metrics");
        return text.Split('\n').Single(l => l.StartsWith("certfleet_coordinator_active ", StringComparison.Ordinal));
    }
}
