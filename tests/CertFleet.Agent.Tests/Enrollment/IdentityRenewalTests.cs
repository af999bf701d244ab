using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Options;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Agent.Tests.Enrollment;

/// <summary>The agent renews its 30-day identity by itself, against the real coordinator on 127.0.46.3, one shared fake clock.</summary>
public sealed class IdentityRenewalTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly string _state = ScratchDirectory.Create("agent-renewal");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose() => ScratchDirectory.Delete(_state);

    [Fact]
    public async Task Agent_IdentityWithAThirdOfItsLifeLeft_RenewsOverMtlsStoresItAndReconnectsWithIt()
    {
        await using var coordinator = await RealCoordinator.StartAsync("127.0.46.3:7443", _time);
        var store = new IdentityStore(_state);
        var options = new AgentOptions
        {
            Coordinator = coordinator.Url,
            Node = "worker-1",
            Root = pki.NodeRoot("worker-1"),
            StateDirectory = _state,
            Token = await coordinator.TokenAsync("worker-1"),
            CaHash = CoordinatorTrust.SpkiHash(coordinator.FleetCa),
            HealthCommand = "true",
            RestartCommand = "true",
        };
        using var host = AgentHost.Build(options, services => services.AddSingleton<TimeProvider>(_time));
        await host.StartAsync().WaitAsync(Limit);
        await WaitAsync(async () => (await coordinator.NodeAsync("worker-1"))?.Connected == true, "the agent connects");
        using var firstIdentity = store.Load();
        var first = firstIdentity.Certificate;
        var firstKey = File.ReadAllText(store.KeyPath);

        _time.Advance(TimeSpan.FromDays(19)); // 11 days left of 30: not yet
        await Task.Delay(500);
        Assert.Equal(first.SerialNumber, X509CertificateLoader.LoadCertificateFromFile(store.CertificatePath).SerialNumber);

        _time.Advance(TimeSpan.FromDays(2)); // 9 days left: due
        await WaitAsync(() => Task.FromResult(X509CertificateLoader.LoadCertificateFromFile(store.CertificatePath).SerialNumber != first.SerialNumber),
            "the identity is renewed");
        await WaitAsync(async () => (await coordinator.NodeAsync("worker-1"))?.Connected == true, "the agent reconnects");
        await host.StopAsync().WaitAsync(Limit);

        using var identity = store.Load();
        Assert.True(identity.Certificate.HasPrivateKey, "the new certificate loads with the new key");
        Assert.NotEqual(firstKey, File.ReadAllText(store.KeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.KeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_state));
        Assert.False(File.Exists(store.NextKeyPath) || File.Exists(store.NextCertificatePath));
        Assert.True(identity.Certificate.NotAfter.ToUniversalTime() > _time.GetUtcNow().UtcDateTime.AddDays(29));
        // the coordinator now refuses the old identity (one live identity per node)
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
        {
            using var channel = CertFleet.Agent.Connection.CoordinatorChannels.ForIdentity(coordinator.Url, firstIdentity, _ => { });
            using var call = new AgentService.AgentServiceClient(channel).Connect();
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { Node = "worker-1" } });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("was replaced", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PromotionInterruptedAfterTheKeyWasRenamed_FinishesItSoKeyAndCertificateMatch()
    {
        var store = new IdentityStore(_state);
        using var ca = TestCertificates.CreateCa("fleet");
        using (var key = store.CreateKey())
        {
            using var issued = TestCertificates.IssueClient(ca, Csr(key), "worker-1");
            store.Save(issued.RawData, ca.RawData);
        }
        using var next = store.CreateNextKey();
        using var renewed = TestCertificates.IssueClient(ca, Csr(next), "worker-1");
        File.WriteAllText(store.NextCertificatePath, System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", renewed.RawData));
        File.Move(store.NextKeyPath, store.KeyPath, overwrite: true); // the crash: new key, old certificate

        using var identity = store.Load();

        Assert.Equal(renewed.SerialNumber, identity.Certificate.SerialNumber);
        Assert.True(identity.Certificate.HasPrivateKey);
        Assert.False(File.Exists(store.NextCertificatePath));
    }

    private static byte[] Csr(System.Security.Cryptography.ECDsa key) =>
        new CertificateRequest("CN=worker-1", key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequest();

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}
