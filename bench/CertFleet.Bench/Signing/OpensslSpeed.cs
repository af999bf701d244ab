using System.Diagnostics;
using System.Globalization;

namespace CertFleet.Bench.Signing;

/// <summary>
/// `openssl speed -seconds 3 rsa2048|ecdsap256` run in the same bench run: the sign/s of one core with the same
/// library .NET signs through, the reference the coordinator's figure is a ratio of.
/// </summary>
internal static class OpensslSpeed
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static double SignsPerSecond(string keyType)
    {
        var (algorithm, marker) = keyType switch
        {
            "rsa2048" => ("rsa2048", "rsa 2048 bits"),
            "ecdsa-p256" => ("ecdsap256", "(nistp256)"),
            _ => throw new BenchException($"--key '{keyType}': give rsa2048 or ecdsa-p256"),
        };
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "speed", "-seconds", "3", algorithm })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new BenchException("openssl did not start; install openssl (apt-get install openssl)");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(Limit))
        {
            process.Kill();
            throw new BenchException($"openssl speed {algorithm} did not finish within {Limit.TotalSeconds} s");
        }
        // "rsa 2048 bits 0.000331s 0.000010s   3021.4  99932.2": sign/s is the next-to-last number
        var line = output.Split('\n').LastOrDefault(l => l.Contains(marker, StringComparison.Ordinal) && l.Contains('s', StringComparison.Ordinal))
            ?? throw new BenchException($"openssl speed {algorithm} printed no '{marker}' line: {output}{errors.Result}");
        var numbers = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? (double?)n : null)
            .Where(n => n is not null).Select(n => n!.Value).ToList();
        return numbers.Count >= 2 ? numbers[^2] : throw new BenchException($"cannot read sign/s from '{line}'");
    }
}
