namespace CertFleet.Cli.Demo;

/// <summary>
/// How to start one of CertFleet's programs: <see cref="FileName"/> with <see cref="Arguments"/> before its own.
/// <see cref="Jit"/>: a clone's build output, run by the .NET runtime rather than as a native binary.
/// </summary>
internal sealed record DemoProgram(string Name, string FileName, IReadOnlyList<string> Arguments, bool Jit = false)
{
    /// <summary>Where it was found, for the demo to say.</summary>
    public string Location => Arguments.Count > 0 ? Arguments[^1] : FileName;
}

/// <summary>
/// Finds certfleet-coordinator and certfleet-agent, which the demo runs as processes of their own (the CLI carries
/// neither the server nor SQLite): beside this certfleet (the package puts all three in /usr/lib/certfleet, and
/// `dotnet publish` of the three into one folder does the same), then, for a certfleet that is a clone's build output
/// (`dotnet run --project src/CertFleet.Cli -- demo`), in the build output of the same clone, named in
/// <see cref="BuildOutputFile"/> beside certfleet.dll (the CLI project builds both programs without referencing their
/// assemblies), then on PATH. The clone's own programs come before PATH's: they are the version this certfleet was
/// built with, where an installed package may be older.
/// </summary>
internal static class DemoPrograms
{
    public const string Coordinator = "certfleet-coordinator";
    public const string Agent = "certfleet-agent";

    /// <summary>Beside certfleet.dll in the CLI's build output only: "name=path of its .dll" lines.</summary>
    public const string BuildOutputFile = "certfleet.demo-programs";

    /// <summary>Both programs, or the message that says which is missing and how to get it.</summary>
    public static (DemoProgram Coordinator, DemoProgram Agent)? Find(string ownFolder, string? pathVariable, out string? problem)
    {
        var coordinator = Find(Coordinator, ownFolder, pathVariable);
        var agent = Find(Agent, ownFolder, pathVariable);
        if (coordinator is not null && agent is not null)
        {
            problem = null;
            return (coordinator, agent);
        }
        var missing = coordinator is null && agent is null ? $"{Coordinator} and {Agent} are" : $"{(coordinator is null ? Coordinator : Agent)} is";
        problem = $"the demo runs {Coordinator} and {Agent} as processes of their own, and {missing} neither beside this "
            + $"certfleet ({ownFolder.TrimEnd('/')}) nor on PATH. Install the package (it puts all three programs in "
            + "/usr/lib/certfleet), or put the programs beside certfleet or on PATH (`dotnet publish src/CertFleet.Coordinator` "
            + "and `src/CertFleet.Agent`), or run the demo from a clone with `dotnet run --project src/CertFleet.Cli -- demo`, "
            + "which builds them";
        return null;
    }

    private static DemoProgram? Find(string name, string ownFolder, string? pathVariable) =>
        In(ownFolder, name)
        ?? FromBuildOutput(name, ownFolder)
        ?? (pathVariable ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(folder => In(folder, name)).FirstOrDefault(found => found is not null);

    private static DemoProgram? In(string folder, string name)
    {
        var candidate = Path.Combine(folder, name);
        return IsExecutable(candidate) ? new DemoProgram(name, candidate, []) : null;
    }

    private static DemoProgram? FromBuildOutput(string name, string ownFolder)
    {
        var list = Path.Combine(ownFolder, BuildOutputFile);
        if (!File.Exists(list))
        {
            return null;
        }
        var dll = File.ReadLines(list)
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0] == name && File.Exists(pair[1]))
            .Select(pair => pair[1])
            .FirstOrDefault();
        if (dll is null)
        {
            return null;
        }
        // run them as this certfleet runs: with the same dotnet, or through their apphost, which finds the runtime as
        // this certfleet's apphost did (`dotnet run` starts the apphost)
        var apphost = Path.ChangeExtension(dll, null);
        return Environment.ProcessPath is { } process && Path.GetFileName(process) == "dotnet" ? new DemoProgram(name, process, [dll], Jit: true)
            : IsExecutable(apphost) ? new DemoProgram(name, apphost, [], Jit: true)
            : null;
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
