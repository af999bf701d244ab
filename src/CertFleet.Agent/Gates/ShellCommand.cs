using System.Diagnostics;
using System.Text;

namespace CertFleet.Agent.Gates;

/// <summary>What a command printed and how it ended; ExitCode is null when it ran out of time.</summary>
internal sealed record CommandOutcome(int? ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;

    public string Describe(string command) => ExitCode switch
    {
        null => $"`{command}` did not finish in time",
        0 => $"`{command}` exited 0{Tail}",
        var code => $"`{command}` exited {code}{Tail}",
    };

    private string Tail => Output.Length == 0 ? "" : ": " + (Output.Length > 500 ? Output[^500..] : Output).Trim();
}

/// <summary>Runs the operator's restart and health commands with /bin/sh -c, {unit} replaced, within a time limit.</summary>
internal static class ShellCommand
{
    public static string ForUnit(string template, string unit) => template.Replace("{unit}", unit, StringComparison.Ordinal);

    public static async Task<CommandOutcome> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start /bin/sh for `{command}`");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            return new CommandOutcome(null, "");
        }
        output.Append(await stdout).Append(await stderr);
        return new CommandOutcome(process.ExitCode, output.ToString());
    }
}
