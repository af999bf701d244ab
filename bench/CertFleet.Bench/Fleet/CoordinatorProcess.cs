using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace CertFleet.Bench.Fleet;

/// <summary>
/// The built certfleet-coordinator (src/CertFleet.Coordinator/bin/&lt;configuration&gt;/net10.0) as its own process, so
/// the RSS read from /proc is the coordinator's alone; its log goes to a file. Killed at dispose.
/// </summary>
internal sealed class CoordinatorProcess : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private string? _steppedDown;

    private CoordinatorProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    /// <summary>
    /// The log line saying the coordinator stepped down to standby (it lost its lease, e.g. a renewal came too late), or
    /// null. A lone coordinator that steps down drops every agent's stream and writes nothing: the phase would only
    /// wait out its limit, so the bench stops on it instead.
    /// </summary>
    public string? SteppedDown => Volatile.Read(ref _steppedDown);

    /// <summary>Starts <paramref name="published"/> (a published binary) or, when null, the built program with dotnet.</summary>
    /// <param name="databaseArguments">--database and its password file for PostgreSQL; none for SQLite in the state dir</param>
    public static async Task<CoordinatorProcess> StartAsync(string? published, string address, int port, string stateDirectory,
        string caCertificate, string caKey, IEnumerable<string> databaseArguments, string logPath)
    {
        var info = new ProcessStartInfo(published ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (published is null)
        {
            info.ArgumentList.Add(ProgramPath());
        }
        // --config /dev/null: a coordinator.conf on this machine must not change what is measured
        foreach (var arg in new[] { "--listen", $"{address}:{port}", "--state-dir", stateDirectory, "--ca-cert", caCertificate, "--ca-key", caKey, "--config", "/dev/null" }.Concat(databaseArguments))
        {
            info.ArgumentList.Add(arg);
        }
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new BenchException($"{info.FileName} did not start");
        var coordinator = new CoordinatorProcess(process, log);
        process.OutputDataReceived += (_, e) => coordinator.Write(e.Data);
        process.ErrorDataReceived += (_, e) => coordinator.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(stateDirectory, "admin.conf")) || !await ListeningAsync(address, port).ConfigureAwait(false))
        {
            if (process.HasExited || deadline.Elapsed > StartLimit)
            {
                coordinator.Dispose();
                throw new BenchException($"the coordinator did not start listening on {address}:{port} within {StartLimit.TotalSeconds} s; see {logPath}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return coordinator;
    }

    /// <summary>A published coordinator given with --coordinator must exist; null (the built one) always does.</summary>
    public static void CheckPublished(string? published)
    {
        if (published is not null && !File.Exists(published))
        {
            throw new BenchException($"--coordinator {published}: no such file; publish it first (dotnet publish src/CertFleet.Coordinator -c Release -r linux-x64 -o DIR)");
        }
    }

    /// <summary>(resident now, peak resident) in MiB, from /proc/PID/status (VmRSS, VmHWM).</summary>
    public (double Current, double Peak) ResidentMiB()
    {
        double Field(string[] lines, string name) =>
            lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal)) is { } line
                ? double.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024
                : double.NaN;
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        return (Field(status, "VmRSS:"), Field(status, "VmHWM:"));
    }

    /// <summary>Total CPU seconds the coordinator used so far (user + system).</summary>
    public double CpuSeconds()
    {
        _process.Refresh();
        return _process.TotalProcessorTime.TotalSeconds;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
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

    private static string ProgramPath()
    {
        // the bench runs from bench/CertFleet.Bench/bin/<configuration>/<framework>/, the coordinator from its own output folder
        var framework = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = framework.Parent!.Name;
        var dll = Path.Combine(BenchPaths.RepositoryRoot(), "src", "CertFleet.Coordinator", "bin", configuration, framework.Name, "certfleet-coordinator.dll");
        return File.Exists(dll) ? dll
            : throw new BenchException($"{dll} is not built; run bench/run.sh or dotnet build bench/CertFleet.Bench -c {configuration}");
    }

    private static async Task<bool> ListeningAsync(string address, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return false;
        }
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (line.Contains("stepped down to standby", StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref _steppedDown, line.Trim(), null);
        }
        lock (_log)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // lines after the bench ended are not needed
            }
        }
    }
}
