using System.Diagnostics;
using System.Text;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Steps;

/// <summary>The built certfleet-agent program run as its own process (so SIGKILL is a real crash), output captured.</summary>
internal sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static AgentProcess Start(IEnumerable<string> arguments, string? faultPoint)
    {
        var info = Programs.StartInfo("certfleet-agent", arguments);
        info.Environment[Pki.Files.FaultPoints.VariableName] = faultPoint ?? "";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start certfleet-agent");
        var agent = new AgentProcess(process);
        process.OutputDataReceived += (_, e) => agent.Append(e.Data);
        process.ErrorDataReceived += (_, e) => agent.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>Waits for the process to end by itself; its exit code (137 = killed by SIGKILL).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"certfleet-agent did not exit within {limit}; its output:\n{Output}");
        }
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
