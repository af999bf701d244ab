using System.Diagnostics;

namespace CertFleet.Bench.Fleet;

/// <summary>
/// One run of the `certfleet` program against the bench's coordinator, as an operator types it: what it printed (lines,
/// bytes, the longest line) and how long it took, process start included. Output is what an operator scrolls through,
/// so its size is measured too: the point is that a 2,000-node plan or renewal stays readable.
/// </summary>
internal sealed record CliRun(int ExitCode, int Lines, long Bytes, int LongestLine, double Seconds, string Head, string Error)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(20);

    public static async Task<CliRun> RunAsync(string certfleet, string adminConfig, IEnumerable<string> arguments, CancellationToken token)
    {
        var info = new ProcessStartInfo(certfleet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(adminConfig);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new BenchException($"{certfleet} did not start");
        var output = process.StandardOutput.ReadToEndAsync(token);
        var error = process.StandardError.ReadToEndAsync(token);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(token);
        limit.CancelAfter(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new BenchException($"certfleet {string.Join(' ', info.ArgumentList.Skip(2))} still running after {Limit.TotalMinutes} min");
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var text = await output.ConfigureAwait(false);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return new CliRun(process.ExitCode, lines.Length, text.Length, lines.Length == 0 ? 0 : lines.Max(l => l.Length), seconds,
            string.Join('\n', lines.Take(6)), await error.ConfigureAwait(false));
    }

    public string Describe(string command) =>
        $"`certfleet {command}`: exit {ExitCode} in {Seconds:0.00} s, {Lines} lines ({Bytes / 1024.0:0.0} KiB, longest {LongestLine} characters)";
}
