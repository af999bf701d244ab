using System.Diagnostics;
using CertFleet.Bench.Output;

namespace CertFleet.Bench.LocalRenewal;

/// <summary>
/// `certfleet renew --local` of a fixture master (make-cluster-pki.sh: 13 certificates and the kubeconfigs), wall
/// time per run with the process start included; each run on a fresh copy of the node, the copy not timed.
/// </summary>
internal static class LocalRenewBench
{
    private const int Warmup = 2;
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(30);

    public static void Run(int runs, string? certfleet)
    {
        var program = certfleet ?? Path.Combine(BenchPaths.RepositoryRoot(), "artifacts", "certfleet", "certfleet");
        if (!File.Exists(program))
        {
            throw new BenchException($"{program} does not exist; publish the CLI first (bench/run.sh does: "
                + "dotnet publish src/CertFleet.Cli -c Release -r linux-x64 -o artifacts/certfleet) or pass --certfleet PATH");
        }
        var directory = Directory.CreateTempSubdirectory("certfleet-bench-local-").FullName;
        try
        {
            var fixture = Path.Combine(directory, "pki");
            Checked("bash", BenchPaths.MakeClusterPki(), "--out", fixture, "--masters", "1", "--workers", "0", "--key-type", "rsa");
            var master = Path.Combine(fixture, "master-1");
            var times = new List<double>();
            var cpuTimes = new List<double>();
            for (var i = 0; i < Warmup + runs; i++)
            {
                var root = Path.Combine(directory, $"run-{i}");
                Directory.CreateDirectory(root);
                Checked("cp", "-a", master + "/.", root);
                var cpu = ChildCpu.Total();
                var clock = Stopwatch.StartNew();
                Checked(program, "renew", "--local", "--root", root);
                var milliseconds = clock.Elapsed.TotalMilliseconds;
                var cpuMilliseconds = (ChildCpu.Total() - cpu).TotalMilliseconds;
                if (i >= Warmup)
                {
                    times.Add(milliseconds);
                    cpuTimes.Add(cpuMilliseconds);
                }
                Directory.Delete(root, recursive: true);
            }
            times.Sort();
            cpuTimes.Sort();
            ResultLine.Note($"{program}: {runs} runs of renew --local on a fixture master, ms: {string.Join(" ", times.Select(t => t.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");
            ResultLine.Print(("runs", runs), ("medianMs", times[times.Count / 2]), ("minMs", times[0]), ("maxMs", times[^1]),
                ("medianCpuMs", cpuTimes[cpuTimes.Count / 2]), ("program", program));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Checked(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new BenchException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(RunLimit))
        {
            process.Kill();
            throw new BenchException($"{program} {string.Join(' ', args)} did not finish within {RunLimit.TotalSeconds} s");
        }
        if (process.ExitCode != 0)
        {
            throw new BenchException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {output.Result}{errors.Result}");
        }
    }
}
