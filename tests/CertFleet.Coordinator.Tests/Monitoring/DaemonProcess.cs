using System.Diagnostics;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// A server from Debian's packages (Prometheus, Alertmanager) run by a test on a loopback address, with a folder of
/// its own for configuration and data; ready once <c>/-/ready</c> answers, killed and its folder removed when disposed.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;

    private DaemonProcess(Process process, string folder, string listen)
    {
        _process = process;
        Folder = folder;
        BaseUrl = $"http://{listen}";
    }

    public string Folder { get; }

    public string BaseUrl { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <param name="program">the command, e.g. "prometheus"</param>
    /// <param name="package">the Debian package that has it, for the message when it is missing</param>
    /// <param name="arguments">given the folder, the command line</param>
    public static async Task<DaemonProcess> StartAsync(string program, string package, string listen, Func<string, IEnumerable<string>> arguments)
    {
        var folder = ScratchDirectory.Create(program);
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments(folder))
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            ScratchDirectory.Delete(folder);
            throw new InvalidOperationException($"{program} is not installed: run ./test.sh (it installs Debian's {package}) or apt-get install {package}", e);
        }
        // drained so a chatty server never blocks on a full pipe
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemon = new DaemonProcess(process, folder, listen);
        await Eventually.True(daemon.IsReadyAsync, $"{program} answers on {listen}", TimeSpan.FromSeconds(60));
        return daemon;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        _process.Dispose();
        Http.Dispose();
        ScratchDirectory.Delete(Folder);
    }

    private async Task<bool> IsReadyAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode}");
        }
        try
        {
            using var response = await Http.GetAsync(new Uri($"{BaseUrl}/-/ready"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
