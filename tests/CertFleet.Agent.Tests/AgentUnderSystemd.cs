using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests;

/// <summary>
/// The built certfleet-agent started as systemd starts a Type=notify service: its parent is a process named
/// "systemd" (how .NET tells it runs under systemd, and so sends READY=1) and NOTIFY_SOCKET names a unix datagram
/// socket this helper listens on. The parent exits with the agent's exit code, as systemd would record it.
/// </summary>
internal sealed class AgentUnderSystemd : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Socket _socket;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Task _listening;

    private AgentUnderSystemd(Process process, Socket socket)
    {
        _process = process;
        _socket = socket;
        _listening = ListenAsync();
    }

    /// <summary>What the agent sent on NOTIFY_SOCKET, one datagram each (READY=1, STOPPING=1, ...).</summary>
    public Channel<string> Notifications { get; } = Channel.CreateUnbounded<string>();

    public string StandardOutput => Read(_output);

    public string StandardError => Read(_error);

    public static AgentUnderSystemd Start(string scratch, IEnumerable<string> arguments)
    {
        var parent = Path.Combine(scratch, "systemd");
        File.WriteAllText(parent, "#!/bin/sh\n\"$@\" &\nwait $!\n");
        File.SetUnixFileMode(parent, (UnixFileMode)0b111_101_101);
        var socketPath = Path.Combine(scratch, "notify");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));

        var info = new ProcessStartInfo(parent) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var (program, prefix) = Programs.Command("certfleet-agent");
        info.ArgumentList.Add(program);
        foreach (var argument in prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["NOTIFY_SOCKET"] = socketPath;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {parent}");
        var agent = new AgentUnderSystemd(process, socket);
        process.OutputDataReceived += (_, e) => Append(agent._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(agent._error, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>Waits for a notification that contains <paramref name="text"/>.</summary>
    public async Task<string> NotifiedAsync(string text, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            while (true)
            {
                var notification = await Notifications.Reader.ReadAsync(timeout.Token);
                if (notification.Contains(text, StringComparison.Ordinal))
                {
                    return notification;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"certfleet-agent did not notify {text} within {limit}; its output:\n{StandardOutput}{StandardError}");
        }
    }

    /// <summary>Waits for the agent to end by itself; its exit code, as the parent reports it.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"certfleet-agent did not exit within {limit}; its output:\n{StandardOutput}{StandardError}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _socket.Dispose();
        await _listening;
    }

    private async Task ListenAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var length = await _socket.ReceiveAsync(buffer);
                await Notifications.Writer.WriteAsync(Encoding.UTF8.GetString(buffer, 0, length));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // disposed
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.AppendLine(line);
            }
        }
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}
