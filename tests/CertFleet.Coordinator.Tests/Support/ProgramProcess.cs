using System.Diagnostics;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Support;

/// <summary>One of CertFleet's programs running as a child process, its output in a log file; killed (SIGKILL) at dispose.</summary>
internal sealed class ProgramProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ProgramProcess(Process process, StreamWriter log, string logPath)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string LogPath { get; }

    public static ProgramProcess Start(string program, string logPath, params string[] args)
    {
        var info = Programs.StartInfo(program, args);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ProgramProcess(process, log, logPath);
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException($"process {_process.Id} did not exit after SIGKILL");
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
            lock (_log)
            {
                _log.Dispose();
            }
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // the last lines after dispose are not needed
            }
        }
    }
}
