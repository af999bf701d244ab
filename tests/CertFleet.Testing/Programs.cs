using System.Diagnostics;

namespace CertFleet.Testing;

/// <summary>
/// CertFleet's programs as built in their own output folders (src/&lt;project&gt;/bin/&lt;configuration&gt;/net10.0), so each
/// runs with its own dependencies; a test's bin folder mixes those of several programs. With
/// <see cref="NativeVariable"/> set to a folder of the published programs (test.sh points it at the .deb's
/// /usr/lib/certfleet, which it builds anyway), the tests that run a program run that native binary instead: what ships,
/// and no JIT in each of the hundreds of processes the end-to-end tests start and kill.
/// </summary>
public static class Programs
{
    public const string NativeVariable = "CERTFLEET_TEST_PROGRAMS";

    private static readonly string? NativeFolder = Environment.GetEnvironmentVariable(NativeVariable) is { Length: > 0 } folder ? folder : null;

    /// <summary>A start of <paramref name="program"/>: the native binary when given, else `dotnet` with its built .dll.</summary>
    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var (fileName, prefix) = Command(program);
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    /// <summary>Runs <paramref name="program"/> to its end, as <see cref="ProcessRunner.Run"/> does.</summary>
    public static ProcessResult Run(string program, IEnumerable<string> arguments, TimeSpan? timeout = null, string? standardInput = null)
    {
        var (fileName, prefix) = Command(program);
        return ProcessRunner.Run(fileName, prefix.Concat(arguments), standardInput: standardInput, timeout: timeout);
    }

    /// <summary>The file to run and the arguments that come before the program's own.</summary>
    public static (string FileName, IReadOnlyList<string> Prefix) Command(string program)
    {
        if (NativeFolder is { } folder)
        {
            var native = Path.Combine(folder, program);
            return File.Exists(native)
                ? (native, [])
                : throw new InvalidOperationException($"{NativeVariable}={folder} holds no {program}; build it with packaging/build-deb.sh or unset {NativeVariable}");
        }
        return ("dotnet", [Dll(program)]);
    }

    private static readonly Dictionary<string, string> Projects = new(StringComparer.Ordinal)
    {
        ["certfleet"] = "CertFleet.Cli",
        ["certfleet-agent"] = "CertFleet.Agent",
        ["certfleet-coordinator"] = "CertFleet.Coordinator",
    };

    /// <summary>The .dll to run with `dotnet`.</summary>
    public static string Dll(string program)
    {
        // AppContext.BaseDirectory is .../tests/<project>/bin/<configuration>/<framework>/
        var framework = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = framework.Parent!.Name;
        var path = Path.Combine(SharedFixtures.RepositoryRoot, "src", Projects[program], "bin", configuration, framework.Name, program + ".dll");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is not built; build the solution first");
        }
        return path;
    }
}
