namespace CertFleet.Bench;

/// <summary>Where the repository and the shared fixtures (../shared beside it, or $CERTFLEET_SHARED) are.</summary>
internal static class BenchPaths
{
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Coordinator.sln")))
            {
                return directory.FullName;
            }
        }
        throw new BenchException($"Coordinator.sln not found above {AppContext.BaseDirectory}; run the bench from its build folder in the repository");
    }

    public static string MakeClusterPki()
    {
        var shared = Environment.GetEnvironmentVariable("CERTFLEET_SHARED") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared"));
        var script = Path.Combine(shared, "fixtures", "make-cluster-pki.sh");
        return File.Exists(script) ? script
            : throw new BenchException($"{script} not found; clone the repository beside ../shared or set CERTFLEET_SHARED");
    }
}
