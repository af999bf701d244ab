namespace CertFleet.Testing;

/// <summary>
/// The /opt layout's master and worker as tests/fixtures/guides/opt-layout.sh makes them, once per test class: the
/// kubelet's rotation is not set, so its kubelet-client-current.pem (an absolute link, as the kubelet writes it) leads
/// to the dated file CertFleet renews. Tests that change files copy a node first with <see cref="CopyNode"/>.
/// </summary>
public sealed class OptLayoutFixture : IDisposable
{
    public const string CertificateDirectory = "/opt/kubernetes/ssl";
    public const string ClientLink = CertificateDirectory + "/kubelet-client-current.pem";

    private readonly List<string> _copies = [];

    public OptLayoutFixture()
    {
        Directory = ScratchDirectory.Create("opt-layout");
        var script = Path.Combine(SharedFixtures.RepositoryRoot, "tests", "fixtures", "guides", "opt-layout.sh");
        var result = ProcessRunner.Run("bash", [script, "--out", Directory], timeout: TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"opt-layout.sh failed: {result.Combined}");
        }
    }

    /// <summary>The folder holding master/ and worker/.</summary>
    public string Directory { get; }

    /// <summary>A private copy of "master" or "worker" (symlinks kept as symlinks) for a test that changes files.</summary>
    public string CopyNode(string node)
    {
        var target = ScratchDirectory.Create("opt-" + node);
        _copies.Add(target);
        ProcessRunner.RunChecked("cp", "-a", Path.Combine(Directory, node) + "/.", target);
        return target;
    }

    public void Dispose()
    {
        foreach (var directory in _copies.Append(Directory))
        {
            ScratchDirectory.Delete(directory);
        }
    }
}
