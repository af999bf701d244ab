using System.Net;
using System.Net.Sockets;
using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// An admin.conf for a coordinator at 127.0.141.1:7443 that never runs: a plain TCP listener holds the address
/// and counts the connections made to it, so a test sees whether a command tried to reach the coordinator at all.
/// </summary>
public sealed class SilentCoordinatorAddress : IAsyncLifetime
{
    private const string Listen = "127.0.141.1:7443";
    private readonly string _state = ScratchDirectory.Create("silent-coordinator");
    private readonly CancellationTokenSource _stop = new();
    private TcpListener _listener = null!;
    private Task _accepting = Task.CompletedTask;
    private int _connections;

    public string Config => Path.Combine(_state, "admin.conf");

    public int Connections => Volatile.Read(ref _connections);

    public async Task InitializeAsync()
    {
        // Build writes admin.conf (the fleet CA, the admin credential) for the address; the server is never started
        await CoordinatorHost.Build(new CoordinatorOptions { Listen = Listen, StateDirectory = _state }).DisposeAsync();
        _listener = new TcpListener(IPAddress.Parse(Listen.Split(':')[0]), 7443);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
        ScratchDirectory.Delete(_state);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
