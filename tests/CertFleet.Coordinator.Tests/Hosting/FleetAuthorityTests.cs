using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Identity;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>First and later starts over one state dir, on 127.0.30.1.</summary>
public sealed class FleetAuthorityTests : IDisposable
{
    private const string Address = "127.0.30.1";
    private readonly string _folder = ScratchDirectory.Create("authority");
    private readonly string _clusterCaCert;
    private readonly string _clusterCaKey;

    public FleetAuthorityTests()
    {
        _clusterCaCert = Path.Combine(_folder, "ca.crt");
        _clusterCaKey = Path.Combine(_folder, "ca.key");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", _clusterCaKey,
            "-out", _clusterCaCert, "-subj", "/CN=kubernetes", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
    }

    [Fact]
    public async Task Build_FirstStart_WritesAdminConfWithModeSixHundredAndAWorkingCredential()
    {
        var state = Path.Combine(_folder, "state-first");
        await using var coordinator = await TestCoordinator.StartAsync($"{Address}:7443", state);

        var adminConf = Path.Combine(state, "admin.conf");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(adminConf));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
        foreach (var key in Directory.GetFiles(state, "*.key"))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
        var config = Kubeconfig.Parse(File.ReadAllText(adminConf), adminConf);
        Assert.Equal($"https://{Address}:7443", Assert.Single(config.Clusters).Server);
        Assert.Equal("certfleet-admin", Assert.Single(config.Users).Name);
        Assert.Contains("current-context: certfleet-admin@certfleet", config.Text, StringComparison.Ordinal);

        // openssl agrees the admin certificate is the fleet CA's, and who it names
        var caFile = Path.Combine(_folder, "fleet-ca-from-conf.crt");
        var adminFile = Path.Combine(_folder, "admin-from-conf.crt");
        File.WriteAllBytes(caFile, Kubeconfig.DecodeData(config.Clusters[0].CertificateAuthorityData!, adminConf));
        File.WriteAllBytes(adminFile, Kubeconfig.DecodeData(config.Users[0].ClientCertificateData!, adminConf));
        Assert.Equal(0, Openssl.Verify(caFile, adminFile).ExitCode);
        Assert.Equal("subject=O=certfleet:admins,CN=certfleet-admin", Openssl.Subject(adminFile));
        Assert.Equal("subject=CN=certfleet fleet CA", Openssl.Subject(caFile));

        var status = await coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
        Assert.Empty(status.Nodes);
    }

    [Fact]
    public async Task Build_SecondStartOverSameStateDir_ReusesTheFleetCaAndAdminCredential()
    {
        var state = Path.Combine(_folder, "state-twice");
        string firstHash, firstAdminConf;
        await using (var first = await TestCoordinator.StartAsync($"{Address}:7444", state))
        {
            firstHash = (await first.Admin().CreateTokenAsync(new CreateTokenRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).CaHash;
            firstAdminConf = File.ReadAllText(Path.Combine(state, "admin.conf"));
        }

        await using var second = await TestCoordinator.StartAsync($"{Address}:7444", state);

        var token = await second.Admin().CreateTokenAsync(new CreateTokenRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
        Assert.Equal(firstHash, token.CaHash);
        Assert.Equal(firstAdminConf, File.ReadAllText(Path.Combine(state, "admin.conf")));
        var expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(second.FleetCa.PublicKey.ExportSubjectPublicKeyInfo()));
        Assert.Equal(expected, token.CaHash);
        Assert.Equal($"https://{Address}:7444", token.CoordinatorUrl);
    }

    [Fact]
    public async Task Build_WithClusterCa_FleetCaIsItsOwn()
    {
        var state = Path.Combine(_folder, "state-cluster");
        await using var coordinator = await TestCoordinator.StartAsync($"{Address}:7445", state,
            authorities: [new ClusterAuthorityFiles(_clusterCaCert, _clusterCaKey)]);

        using var clusterCa = X509Certificate2.CreateFromPem(File.ReadAllText(_clusterCaCert));
        Assert.NotEqual(clusterCa.PublicKey.ExportSubjectPublicKeyInfo(), coordinator.FleetCa.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal("CN=certfleet fleet CA", coordinator.FleetCa.Subject);
        Assert.True(coordinator.FleetCa.NotAfter - coordinator.FleetCa.NotBefore > TimeSpan.FromDays(3649));
        Assert.DoesNotContain(File.ReadAllText(_clusterCaKey).Trim(), File.ReadAllText(Path.Combine(state, "admin.conf")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_ListenAddressChanged_RewritesAdminConfAndServerCertificateForTheNewHost()
    {
        var state = Path.Combine(_folder, "state-moved");
        await using (await TestCoordinator.StartAsync($"{Address}:7446", state))
        {
        }

        await using var moved = await TestCoordinator.StartAsync("127.0.30.11:7446", state);

        var adminConf = Path.Combine(state, "admin.conf");
        Assert.Equal("https://127.0.30.11:7446", Kubeconfig.Parse(File.ReadAllText(adminConf), adminConf).Clusters[0].Server);
        var status = await moved.Admin().GetStatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
        Assert.NotNull(status);
    }

    [Fact]
    public async Task ServerCertificate_NearExpiry_ReplacedForTheNextHandshake()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var coordinator = await TestCoordinator.StartAsync($"{Address}:7447", Path.Combine(_folder, "state-long"),
            configure: s => s.AddSingleton<TimeProvider>(time));
        var first = coordinator.Authority.ServerCertificate;

        time.Advance(FleetAuthority.ServerValidity - TimeSpan.FromDays(29));
        var second = coordinator.Authority.ServerCertificate;

        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.True(second.NotAfter > first.NotAfter.AddDays(300));
        Assert.True(FleetChannels.ChainsTo(second, coordinator.FleetCa, time.GetUtcNow()));
        Assert.Same(second, coordinator.Authority.ServerCertificate);
    }

    [Fact]
    public void Build_InvalidOptions_ThrowsWithEveryProblem()
    {
        var error = Assert.Throws<CoordinatorOptionsException>(() => CoordinatorHost.Build(new CoordinatorOptions
        {
            Listen = "nowhere",
            StateDirectory = "",
        }));

        Assert.Equal(2, error.Problems.Count);
    }

    public void Dispose() => ScratchDirectory.Delete(_folder);
}
