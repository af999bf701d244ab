namespace CertFleet.Testing.Guides;

/// <summary>
/// A master and a worker rebuilt the way a public guide makes them (tests/fixtures/guides/SCRIPT, see its README),
/// made once per test class. Tests that change files work on <see cref="Copy"/>.
/// </summary>
public abstract class GuideLayout : IDisposable
{
    private readonly List<string> _copies = [];

    protected GuideLayout(string script, int leafDays = 9)
    {
        Script = script;
        Directory = ScratchDirectory.Create("guide-" + Path.GetFileNameWithoutExtension(script));
        var path = Path.Combine(SharedFixtures.RepositoryRoot, "tests", "fixtures", "guides", script);
        var result = ProcessRunner.Run("bash", [path, "--out", Directory, "--leaf-days", leafDays.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            timeout: TimeSpan.FromMinutes(3));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed: {result.Combined}");
        }
    }

    public string Script { get; }

    /// <summary>Holds master/, worker/ and their uses.tsv.</summary>
    public string Directory { get; }

    public string NodeRoot(string node) => Path.Combine(Directory, node);

    /// <summary>What the script says each unit of the node uses: (unit, path on the node) from NODE.uses.tsv.</summary>
    public IReadOnlyList<(string Unit, string Path)> Uses(string node) =>
        File.ReadAllLines(Path.Combine(Directory, node + ".uses.tsv"))
            .Where(line => line.Length > 0)
            .Select(line => line.Split('\t'))
            .Select(f => (f[0], f[1]))
            .ToList();

    /// <summary>A private copy of one node (symlinks kept) for a test that changes files.</summary>
    public string Copy(string node)
    {
        var target = ScratchDirectory.Create("guide-copy");
        lock (_copies)
        {
            _copies.Add(target);
        }
        ProcessRunner.RunChecked("cp", "-a", NodeRoot(node) + "/.", target);
        return target;
    }

    public void Dispose()
    {
        foreach (var directory in _copies.Append(Directory))
        {
            ScratchDirectory.Delete(directory);
        }
        GC.SuppressFinalize(this);
    }
}

public sealed class OpsnullLayout() : GuideLayout("opsnull.sh");

public sealed class DotbaloLayout() : GuideLayout("dotbalo.sh");

public sealed class KubeaszLayout() : GuideLayout("kubeasz.sh");

/// <summary>The /opt layout: the kubelet's rotation is not set, so its kubelet-client-current.pem (an absolute link, as the
/// kubelet writes it) leads to the dated file CertFleet renews.</summary>
public sealed class OptLayout() : GuideLayout("opt-layout.sh")
{
    public const string CertificateDirectory = "/opt/kubernetes/ssl";
    public const string ClientLink = CertificateDirectory + "/kubelet-client-current.pem";
}

public sealed class HardWayLayout() : GuideLayout("kthw.sh");

public sealed class HardWayCfsslLayout() : GuideLayout("kthw-cfssl.sh");

public sealed class HandbookLayout() : GuideLayout("handbook.sh");
