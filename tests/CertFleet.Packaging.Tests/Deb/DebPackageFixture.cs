using CertFleet.Testing;

namespace CertFleet.Packaging.Tests.Deb;

/// <summary>
/// packaging/build-deb.sh run once for the class, and the package unpacked with `dpkg -x` into a scratch root.
/// Built lazily, so a skipped class (<see cref="DebFactAttribute"/>) costs nothing.
/// </summary>
public sealed class DebPackageFixture : IDisposable
{
    private readonly Lazy<(string Deb, string Root)> _built;
    private readonly string _folder = ScratchDirectory.Create("deb");

    public DebPackageFixture() => _built = new Lazy<(string, string)>(Build);

    public string Deb => _built.Value.Deb;

    /// <summary>The unpacked package: Root/usr/bin/certfleet and so on.</summary>
    public string Root => _built.Value.Root;

    public void Dispose() => ScratchDirectory.Delete(_folder);

    /// <summary>A package ./test.sh built while the other test assemblies ran (same script, same sources).</summary>
    public const string PrebuiltVariable = "CERTFLEET_DEB";

    private (string, string) Build()
    {
        if (Environment.GetEnvironmentVariable(PrebuiltVariable) is { Length: > 0 } prebuilt && File.Exists(prebuilt))
        {
            return (prebuilt, Unpack(prebuilt));
        }
        var output = Path.Combine(_folder, "out");
        var built = ProcessRunner.Run("bash", [Path.Combine(SharedFixtures.RepositoryRoot, "packaging/build-deb.sh"), output],
            timeout: TimeSpan.FromMinutes(20));
        if (built.ExitCode != 0)
        {
            throw new InvalidOperationException($"build-deb.sh failed: {built.Combined}");
        }
        var deb = built.StandardOutput.Trim().Split('\n')[^1];
        return (deb, Unpack(deb));
    }

    private string Unpack(string deb)
    {
        var root = Path.Combine(_folder, "root");
        ProcessRunner.RunChecked("dpkg", "-x", deb, root);
        return root;
    }
}
