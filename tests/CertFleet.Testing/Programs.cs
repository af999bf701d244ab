namespace CertFleet.Testing;

/// <summary>
/// CertFleet's programs as built in their own output folders (src/&lt;project&gt;/bin/&lt;configuration&gt;/net10.0), so each
/// runs with its own dependencies; a test's bin folder mixes those of several programs.
/// </summary>
public static class Programs
{
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
