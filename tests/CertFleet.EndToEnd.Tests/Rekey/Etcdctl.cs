using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>`etcdctl put` against one member with the given files: what a Go client of etcd (the apiserver) would do.</summary>
internal static class Etcdctl
{
    public static readonly string[] Members = ["127.0.10.11", "127.0.10.12", "127.0.10.13"];

    /// <summary>
    /// One put through <paramref name="member"/> only. etcdctl 3.4 says "context deadline exceeded" both for a member
    /// that is down and for a TLS handshake the member refused, and takes the whole <paramref name="timeout"/> either way.
    /// </summary>
    public static ProcessResult Put(string member, string caFile, string certificateFile, string keyFile, string key, string value, TimeSpan timeout)
    {
        var milliseconds = Math.Max(100, (int)timeout.TotalMilliseconds);
        try
        {
            return ProcessRunner.Run("etcdctl", [$"--endpoints=https://{member}:2379", "--cacert", caFile, "--cert", certificateFile,
                "--key", keyFile, $"--dial-timeout={milliseconds}ms", $"--command-timeout={milliseconds}ms", "put", key, value],
                environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" }, timeout: timeout + TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException e)
        {
            // etcdctl ignored its own timeout: a failed put all the same, said in our words
            return new ProcessResult(-1, "", e.Message);
        }
    }

    /// <summary>The last lines of etcdctl's output on one line: its error, without the log noise before it.</summary>
    public static string Error(ProcessResult result) =>
        string.Join(" | ", result.Combined.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(2)) is { Length: > 0 } text
            ? text[..Math.Min(text.Length, 400)]
            : $"exit {result.ExitCode} with no output";
}
