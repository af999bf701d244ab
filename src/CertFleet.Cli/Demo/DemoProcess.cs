using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace CertFleet.Cli.Demo;

/// <summary>
/// One of the demo's programs running as a child process: its output goes to a log file in the sandbox (and to the
/// demo's own output with --verbose, each line marked with whose it is); stopped as systemd stops it, SIGTERM first.
/// </summary>
internal sealed partial class DemoProcess : IAsyncDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TextWriter? _echo;
    private readonly Lock _lock = new();

    private DemoProcess(string label, Process process, string logPath, TextWriter? echo)
    {
        Label = label;
        _process = process;
        LogPath = logPath;
        _echo = echo;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    /// <summary>"certfleet-coordinator", "certfleet-agent master-1": what the demo calls it.</summary>
    public string Label { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <param name="echo">Where to show each line as well (--verbose), or null.</param>
    public static DemoProcess Start(DemoProgram program, string label, IEnumerable<string> arguments, string logPath, TextWriter? echo)
    {
        var start = new ProcessStartInfo(program.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in program.Arguments.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        if (program.Jit)
        {
            // a daemon's profile-guided tiering pays off over days; in a demo of a minute, seven processes that each
            // instrument and recompile the same code cost about a fifth more CPU (docs/PERFORMANCE.md)
            start.Environment["DOTNET_TieredPGO"] = "0";
        }
        var process = new Process { StartInfo = start };
        var running = new DemoProcess(label, process, logPath, echo);
        process.OutputDataReceived += (_, e) => running.Write(e.Data);
        process.ErrorDataReceived += (_, e) => running.Write(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>What it said last, for a failure message: the last <paramref name="lines"/> lines of its log.</summary>
    public string Tail(int lines)
    {
        lock (_lock)
        {
            _log.Flush();
        }
        using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join("\n", all.TakeLast(lines).Select(line => "    " + line));
    }

    /// <summary>Why it stopped, when it has: its exit code and last lines.</summary>
    public string ExitDescription()
    {
        // without a time limit, this also waits until its last lines have been read into the log
        _process.WaitForExit();
        return $"{Label} exited with code {_process.ExitCode.ToString(CultureInfo.InvariantCulture)}; its last lines ({LogPath}):\n{Tail(15)}";
    }

    /// <summary>SIGTERM, as `systemctl stop` does; SIGKILL when it has not stopped within <paramref name="limit"/>.</summary>
    public async Task StopAsync(TimeSpan limit)
    {
        if (_process.HasExited)
        {
            return;
        }
        _ = Kill(_process.Id, SigTerm);
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _process.Dispose();
        lock (_lock)
        {
            _log.Dispose();
        }
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // the last lines after the demo is done are not needed
            }
        }
        _echo?.WriteLine($"[{Label}] {line}");
    }

    // .NET's Process has SIGKILL only; a graceful stop lets the coordinator close its database and the agents their streams
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
