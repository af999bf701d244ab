using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CertFleet.Testing.Postgres;

/// <summary>
/// A running postgres server process, in a process group of its own (setsid), so a stop reaches its backends too. It is
/// started from a thread of its own that lives exactly as long as the server: the kernel sends the parent-death signal
/// when the thread that started a process ends, not the process, and a pool thread may retire at any time.
/// </summary>
internal sealed partial class Postmaster
{
    private const int SigInt = 2;
    private const int SigKill = 9;
    private const int LogLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Postmaster(Process process)
    {
        _process = process;
        ProcessId = process.Id;
    }

    /// <summary>The server's process id, which is also its process group's (setsid execs it, keeping the id).</summary>
    public int ProcessId { get; }

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The last lines the server wrote (its log goes to stderr), for the messages of failed starts and stops.</summary>
    public string LogTail => string.Join('\n', _log);

    public static Task<Postmaster> StartAsync(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var started = new TaskCompletionSource<Postmaster>(TaskCreationOptions.RunContinuationsAsynchronously);
        var owner = new Thread(() => Own(info, started)) { IsBackground = true, Name = "postmaster" };
        owner.Start();
        return started.Task;
    }

    /// <summary>Fast shutdown (SIGINT): the server ends every session and stops. SIGTERM would wait for clients to leave.</summary>
    public void RequestFastShutdown() => Signal(ProcessId, SigInt);

    /// <summary>SIGKILL to the whole process group, as a crash of the machine would end it.</summary>
    public void KillGroup() => Signal(-ProcessId, SigKill);

    public async Task<bool> WaitForExitAsync(TimeSpan limit)
    {
        try
        {
            await _exited.Task.WaitAsync(limit);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static void Own(ProcessStartInfo info, TaskCompletionSource<Postmaster> started)
    {
        Postmaster postmaster;
        try
        {
            postmaster = new Postmaster(Process.Start(info) ?? throw new InvalidOperationException("setsid did not start"));
        }
        catch (Exception e)
        {
            started.SetException(e);
            return;
        }
        postmaster._process.OutputDataReceived += (_, line) => postmaster.Keep(line.Data);
        postmaster._process.ErrorDataReceived += (_, line) => postmaster.Keep(line.Data);
        postmaster._process.BeginOutputReadLine();
        postmaster._process.BeginErrorReadLine();
        started.SetResult(postmaster);
        // this thread is the server's parent: it ends only when the server has
        postmaster._process.WaitForExit();
        postmaster._process.Dispose();
        postmaster._exited.SetResult();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _log.Enqueue(line);
        while (_log.Count > LogLines)
        {
            _log.TryDequeue(out _);
        }
    }

    private void Signal(int target, int signal)
    {
        // a server that has already gone (ESRCH) is what the caller wanted anyway
        if (!HasExited)
        {
            _ = SendSignal(target, signal);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
