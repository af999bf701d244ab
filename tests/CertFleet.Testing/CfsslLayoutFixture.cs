namespace CertFleet.Testing;

/// <summary>
/// A node laid out as cfssl-based runbooks leave it (tests/fixtures/make-cfssl-layout.sh): PKCS#8 keys,
/// IPv6/URI/email SANs, a certificate without SKI/AKI, an expired one, a two-CA bundle, a P-384 etcd CA, a
/// hand-written kubeconfig with comments, and units with quotes and ${VAR}. Made once per test class.
/// </summary>
public sealed class CfsslLayoutFixture : IDisposable
{
    private readonly List<string> _copies = [];

    public CfsslLayoutFixture()
    {
        Root = ScratchDirectory.Create("cfssl");
        var script = Path.Combine(SharedFixtures.RepositoryRoot, "tests", "fixtures", "make-cfssl-layout.sh");
        var result = ProcessRunner.Run("bash", [script, Root], timeout: TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"make-cfssl-layout.sh failed: {result.Combined}");
        }
    }

    public string Root { get; }

    /// <summary>A private copy for a test that changes files.</summary>
    public string Copy()
    {
        var target = ScratchDirectory.Create("cfssl-copy");
        _copies.Add(target);
        ProcessRunner.RunChecked("cp", "-a", Root + "/.", target);
        return target;
    }

    public void Dispose()
    {
        foreach (var directory in _copies.Append(Root))
        {
            ScratchDirectory.Delete(directory);
        }
    }
}
