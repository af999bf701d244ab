using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Options;
using CertFleet.Coordinator.Hosting;
using CertFleet.Pki.Authorities;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Tests.Enrollment;

/// <summary>
/// A whole enrollment and rollout with the real coordinator and agent in-process (127.0.46.6), every log line of both
/// captured: no private key appears, neither as PEM nor as bytes.
/// </summary>
public sealed class NoKeysInLogsTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string _state = ScratchDirectory.Create("agent-nokeys");

    public void Dispose() => ScratchDirectory.Delete(_state);

    [Fact]
    public async Task EnrollmentAndRollout_CoordinatorAndAgentLogs_HoldNoPrivateKeyPemOrBytes()
    {
        var log = new CapturedLog();
        var master = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
        var worker = pki.CopyNode("worker-1");
        await using var coordinator = await RealCoordinator.StartAsync("127.0.46.6:7443", TimeProvider.System,
            [new ClusterAuthorityFiles(Path.Combine(master, "ca.crt"), Path.Combine(master, "ca.key"))],
            services => services.AddSingleton<ILoggerProvider>(log));
        var options = new AgentOptions
        {
            Coordinator = coordinator.Url,
            Node = "worker-1",
            Root = worker,
            StateDirectory = _state,
            Token = await coordinator.TokenAsync("worker-1"),
            CaHash = CoordinatorTrust.SpkiHash(coordinator.FleetCa),
            HealthCommand = "true",
            RestartCommand = "true",
        };
        using var host = AgentHost.Build(options, services => services.AddSingleton<ILoggerProvider>(log));
        await host.StartAsync().WaitAsync(Limit);
        await WaitAsync(async () => (await coordinator.NodeAsync("worker-1"))?.Certificates.Count > 0, "the agent reports");

        var rollout = await coordinator.Admin.StartRolloutAsync(new RolloutRequest { All = true }, deadline: DateTime.UtcNow.Add(Limit));
        await WaitAsync(async () => (await coordinator.Admin.GetRolloutAsync(new RolloutId { Id = rollout.Id }, deadline: DateTime.UtcNow.Add(Limit))).State
            is RolloutState.Completed or RolloutState.Halted or RolloutState.Aborted, "the rollout ends");
        var ended = await coordinator.Admin.GetRolloutAsync(new RolloutId { Id = rollout.Id }, deadline: DateTime.UtcNow.Add(Limit));
        await host.StopAsync().WaitAsync(Limit);

        Assert.Equal(RolloutState.Completed, ended.State);
        Assert.Contains(ended.Steps, s => s.Kind == StepKind.Install && s.State == StepState.Succeeded);
        Assert.Contains(ended.Steps, s => s.Unit.StartsWith("kubelet", StringComparison.Ordinal) && s.State == StepState.Succeeded);
        var text = log.Text;
        Assert.Contains("Enrolled node worker-1", text, StringComparison.Ordinal); // the capture works
        Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.OrdinalIgnoreCase);
        var keys = Directory.GetFiles(worker, "*.key", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(_state, "*.key"))
            .Concat(Directory.GetFiles(coordinator.StateDirectory, "*.key"))
            .Append(Path.Combine(master, "ca.key"))
            .ToList();
        Assert.True(keys.Count >= 6, string.Join(", ", keys));
        foreach (var key in keys)
        {
            var pem = File.ReadAllText(key);
            var fields = System.Security.Cryptography.PemEncoding.Find(pem);
            var base64 = pem[fields.Base64Data].Replace("\n", "", StringComparison.Ordinal);
            var der = Convert.FromBase64String(base64);
            foreach (var piece in new[] { base64[..40], base64[^40..], Convert.ToHexString(der[^24..]), Convert.ToHexStringLower(der[^24..]) })
            {
                Assert.False(text.Contains(piece, StringComparison.Ordinal), $"a log line holds bytes of {key}");
            }
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(100);
        }
    }
}
