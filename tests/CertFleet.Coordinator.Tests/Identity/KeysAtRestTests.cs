using CertFleet.Coordinator.Tests.Support;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Identity;

/// <summary>The state dir and the fleet keys on disk: 0700 and 0600, whatever was there before; on 127.0.46.5.</summary>
public sealed class KeysAtRestTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _folder = ScratchDirectory.Create("keys-at-rest");

    public void Dispose() => ScratchDirectory.Delete(_folder);

    [Fact]
    public async Task Start_StateDirMadeByHandWithMode755_TightenedTo700AndEveryKeyIs600()
    {
        var state = Path.Combine(_folder, "state");
        Directory.CreateDirectory(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        await using (await TestCoordinator.StartAsync("127.0.46.5:7443", state))
        {
        }

        Assert.Equal(Private | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
        var keys = Directory.GetFiles(state, "*.key");
        Assert.Equal(["admin.key", "fleet-ca.key", "server.key"], keys.Select(Path.GetFileName).Order());
        Assert.All(keys, k => Assert.Equal(Private, File.GetUnixFileMode(k)));
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(state, "admin.conf")));
    }

    [Fact]
    public async Task Start_FleetKeyMadeReadableByOthers_RefusedSayingChmodAndNothingServed()
    {
        var state = Path.Combine(_folder, "state-loose");
        await using (await TestCoordinator.StartAsync("127.0.46.5:7444", state))
        {
        }
        var key = Path.Combine(state, "fleet-ca.key");
        File.SetUnixFileMode(key, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = await Record.ExceptionAsync(async () => await (await TestCoordinator.StartAsync("127.0.46.5:7444", state)).DisposeAsync());

        Assert.NotNull(error);
        Assert.Contains($"run `chmod 600 {key}`", error.ToString(), StringComparison.Ordinal);
    }
}
