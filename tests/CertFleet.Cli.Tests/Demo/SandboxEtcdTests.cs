using CertFleet.Cli.Demo;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Demo;

/// <summary>The demo's real etcd members: three on 127.0.44.x, started, checked over mTLS, restarted, stopped.</summary>
public sealed class SandboxEtcdTests : IDisposable
{
    private readonly string _directory = ScratchDirectory.Create("sandbox-etcd");
    private readonly List<SandboxEtcd> _members;

    public SandboxEtcdTests()
    {
        new SandboxCluster(new SandboxLayout(3, 0, "127.0.44", "127.0.45"), TimeProvider.System).Write(_directory);
        _members = [.. Enumerable.Range(1, 3).Select(i => new SandboxEtcd(Path.Combine(_directory, $"master-{i}")))];
    }

    public void Dispose()
    {
        _members.ForEach(m => m.Stop());
        ScratchDirectory.Delete(_directory);
    }

    [Fact]
    public async Task StartAndRestart_ThreeMembers_AreHealthyOverMutualTlsAndServeTheFilesCertificate()
    {
        Assert.True(SandboxEtcd.IsInstalled(), "etcd is not installed; ./test.sh installs etcd-server");
        _members.ForEach(m => m.Start());

        var (healthy, detail) = await WaitHealthy(_members[0]);
        Assert.True(healthy, detail);
        var serial = Openssl.Serial(Path.Combine(_directory, "master-1/etc/kubernetes/pki/etcd-server.crt"));
        Assert.Contains(serial, detail, StringComparison.OrdinalIgnoreCase);

        _members[1].Stop();
        Assert.False(_members[1].IsRunning());
        _members[1].Start();
        (healthy, detail) = await WaitHealthy(_members[1]);
        Assert.True(healthy, detail);
    }

    private static async Task<(bool, string)> WaitHealthy(SandboxEtcd member)
    {
        var result = (false, "not checked");
        for (var attempt = 0; attempt < 40 && !result.Item1; attempt++)
        {
            result = await member.CheckAsync(CancellationToken.None);
            if (!result.Item1)
            {
                await Task.Delay(250);
            }
        }
        return result;
    }
}
