namespace CertFleet.Testing;

/// <summary>Finds ../shared (the fixtures every developer and CI run has beside the repository).</summary>
public static class SharedFixtures
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Directory { get; } = FindShared();

    public static string MakeClusterPki => Path.Combine(Directory, "fixtures", "make-cluster-pki.sh");

    public static string EtcdMember => Path.Combine(Directory, "fixtures", "etcd-member.sh");

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Coordinator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Coordinator.sln not found above {AppContext.BaseDirectory}");
    }

    private static string FindShared()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("CERTFLEET_SHARED");
        var candidate = string.IsNullOrEmpty(fromEnvironment)
            ? Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"))
            : fromEnvironment;
        if (!File.Exists(Path.Combine(candidate, "fixtures", "make-cluster-pki.sh")))
        {
            throw new InvalidOperationException(
                $"shared fixtures not found at {candidate}; clone the repository beside ../shared or set CERTFLEET_SHARED");
        }
        return candidate;
    }
}
