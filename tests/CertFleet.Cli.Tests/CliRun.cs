using CertFleet.Testing;

namespace CertFleet.Cli.Tests;

/// <summary>Runs `certfleet` in-process with captured output, as a user would type it.</summary>
internal static class CliRun
{
    public static (int ExitCode, string Output, string Error) Invoke(params string[] args) => Invoke(TimeProvider.System, args);

    public static (int ExitCode, string Output, string Error) Invoke(TimeProvider time, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = CertFleetCli.Run(args, new CliContext(time, output, error));
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Runs the real `certfleet` program in a child process (for crashes and start-up behaviour).</summary>
    public static ProcessResult Process(IDictionary<string, string>? environment, params string[] args)
    {
        var program = Programs.Dll("certfleet");
        return ProcessRunner.Run("dotnet", [program, .. args], environment: environment, timeout: TimeSpan.FromMinutes(1));
    }
}
