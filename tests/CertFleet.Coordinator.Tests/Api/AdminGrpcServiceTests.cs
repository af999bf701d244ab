using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Api;

/// <summary>Who may call the admin API, and how rollout errors reach the CLI; on 127.0.30.4.</summary>
public sealed class AdminGrpcServiceTests : IAsyncLifetime
{
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await TestCoordinator.StartAsync("127.0.30.4:7443",
        configure: s => s.AddSingleton<IRolloutAdmin, ScriptedRollouts>());

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task GetStatus_NoClientCertificate_PermissionDenied()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.AdminWith(null).GetStatusAsync(new StatusRequest(), deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("needs the admin credential", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_AgentCertificate_PermissionDenied()
    {
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: Deadline());
        var identity = await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-1");

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.AdminWith(identity).CreateTokenAsync(new CreateTokenRequest(), deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task GetStatus_AdminNamedCertificateFromAnotherCa_RefusedAtTheHandshake()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("O=certfleet:admins,CN=certfleet-admin", key, HashAlgorithmName.SHA256);
        using var forged = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.AdminWith(forged).GetStatusAsync(new StatusRequest(), deadline: Deadline()).ResponseAsync);

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
    }

    [Theory]
    [InlineData("missing", StatusCode.NotFound, "rollout missing does not exist")]
    [InlineData("done", StatusCode.FailedPrecondition, "rollout done is completed")]
    [InlineData("", StatusCode.InvalidArgument, "give a rollout id")]
    public async Task ResumeRollout_RolloutAdminThrows_MappedToStatusWithItsMessage(string id, StatusCode expected, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.Admin().ResumeRolloutAsync(new RolloutId { Id = id }, deadline: Deadline()).ResponseAsync);

        Assert.Equal(expected, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
    }

    [Fact]
    public async Task StartRollout_Admin_DelegatesAsManualStart()
    {
        var rollout = await _coordinator.Admin().StartRolloutAsync(new RolloutRequest { All = true }, deadline: Deadline());

        Assert.Equal("r-1", rollout.Id);
        Assert.False(rollout.Automatic);
        Assert.True(rollout.Request.All);
    }

    [Fact]
    public async Task WatchRollout_Admin_StreamsEveryChange()
    {
        using var call = _coordinator.Admin().WatchRollout(new RolloutId { Id = "r-1" }, deadline: Deadline());

        var states = new List<RolloutState>();
        await foreach (var rollout in call.ResponseStream.ReadAllAsync())
        {
            states.Add(rollout.State);
        }

        Assert.Equal([RolloutState.Running, RolloutState.Completed], states);
    }

    [Fact]
    public async Task RolloutAnswers_Admin_AlsoCarryTheWordsACliOfTheReleaseBeforeReads()
    {
        // a `certfleet` of the release before reads states and kinds from these numbers, as strings
        Assert.Equal((2, 3, 6, 3), (Rollout.StateTextFieldNumber, RolloutStep.KindTextFieldNumber, RolloutStep.StateTextFieldNumber,
            PlannedStep.KindTextFieldNumber));
        var admin = _coordinator.Admin();

        var shown = await admin.GetRolloutAsync(new RolloutId { Id = "r-halted" }, deadline: Deadline());
        var listed = Assert.Single((await admin.ListRolloutsAsync(new ListRolloutsRequest(), deadline: Deadline())).Rollouts);
        var planned = Assert.Single((await admin.PlanAsync(new RolloutRequest { All = true }, deadline: Deadline())).Steps);
        using var call = admin.WatchRollout(new RolloutId { Id = "r-halted" }, deadline: Deadline());
        var watched = new List<Rollout>();
        await foreach (var rollout in call.ResponseStream.ReadAllAsync())
        {
            watched.Add(rollout);
        }

#pragma warning disable CS0612 // the deprecated text fields are what is under test
        foreach (var rollout in new[] { shown, listed, watched[0] })
        {
            Assert.Equal("halted", rollout.StateText);
            Assert.Equal(["install rolled-back", "restart failed", "rollback succeeded"], rollout.Steps.Select(s => $"{s.KindText} {s.StateText}"));
        }
        Assert.Equal("completed", watched[^1].StateText);
        Assert.Equal("renew-ca", planned.KindText);
#pragma warning restore CS0612
    }

    [Fact]
    public async Task WatchRollout_UnknownId_NotFound()
    {
        using var call = _coordinator.Admin().WatchRollout(new RolloutId { Id = "missing" }, deadline: Deadline());

        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(20);

    /// <summary>An IRolloutAdmin that throws each documented exception for a chosen id.</summary>
    private sealed class ScriptedRollouts : IRolloutAdmin
    {
        public Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken) =>
            Task.FromResult(new RolloutPlan { Steps = { new PlannedStep { Sequence = 1, Batch = 1, Kind = StepKind.RenewCa } } });

        public Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken) =>
            Task.FromResult(new Rollout { Id = "r-1", State = RolloutState.Running, Automatic = automatic, Request = request });

        public async Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken) =>
            new() { Rollouts = { await Find("r-halted") } };

        public Task<Rollout> GetAsync(string id, CancellationToken cancellationToken) => Find(id);

        public Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken) => Find(id);

        public Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken) => Find(id);

        public Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken) => Find(id);

        public async IAsyncEnumerable<Rollout> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var rollout = await Find(id);
            yield return rollout;
            await Task.Delay(50, cancellationToken);
            yield return new Rollout { Id = id, State = RolloutState.Completed };
        }

        public Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken) =>
            Task.FromResult(new VerifyFleetResponse());

        private static Task<Rollout> Find(string id) => id switch
        {
            "missing" => throw new KeyNotFoundException("rollout missing does not exist"),
            "done" => throw new InvalidOperationException("rollout done is completed"),
            "" => throw new ArgumentException("give a rollout id"),
            "r-halted" => Task.FromResult(new Rollout
            {
                Id = id, State = RolloutState.Halted,
                Steps =
                {
                    new RolloutStep { Sequence = 1, Kind = StepKind.Install, State = StepState.RolledBack },
                    new RolloutStep { Sequence = 2, Kind = StepKind.Restart, State = StepState.Failed },
                    new RolloutStep { Sequence = 3, Kind = StepKind.Rollback, State = StepState.Succeeded },
                },
            }),
            _ => Task.FromResult(new Rollout { Id = id, State = RolloutState.Running }),
        };
    }
}
