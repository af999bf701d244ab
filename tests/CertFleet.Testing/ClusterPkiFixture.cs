using System.Collections.Concurrent;

namespace CertFleet.Testing;

/// <summary>
/// A cluster PKI made by ../shared/fixtures/make-cluster-pki.sh (real openssl output), once per test process for each
/// set of arguments, and copied for each test class: about forty classes use the same cluster, and making it takes
/// ten seconds of CPU each time. Tests that change files copy a node first with <see cref="CopyNode"/>.
/// </summary>
public class ClusterPkiFixture : IDisposable
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Made = new(StringComparer.Ordinal);

    private readonly List<string> _scratch = [];

    public ClusterPkiFixture() : this("rsa")
    {
    }

    protected ClusterPkiFixture(string keyType, params string[] extraArguments)
    {
        KeyType = keyType;
        var arguments = new List<string> { "--key-type", keyType };
        arguments.AddRange(extraArguments);
        var made = Made.GetOrAdd(string.Join('\0', arguments), _ => new Lazy<string>(() => Make(keyType, arguments))).Value;
        Directory = ScratchDirectory.Create("pki-" + keyType);
        ProcessRunner.RunChecked("cp", "-a", made + "/.", Directory);
    }

    private static string Make(string keyType, List<string> arguments)
    {
        var directory = ScratchDirectory.Create("pki-made-" + keyType);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ScratchDirectory.Delete(directory);
        var result = ProcessRunner.Run("bash", [SharedFixtures.MakeClusterPki, "--out", directory, .. arguments], timeout: TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"make-cluster-pki.sh failed: {result.Combined}");
        }
        return directory;
    }

    public string KeyType { get; }

    /// <summary>The folder holding one sub-folder per node and manifest.tsv.</summary>
    public string Directory { get; }

    public string NodeRoot(string node) => Path.Combine(Directory, node);

    /// <summary>A private copy of one node's folder (symlinks kept as symlinks) for a test that changes files.</summary>
    public string CopyNode(string node)
    {
        var target = ScratchDirectory.Create("node-" + node);
        _scratch.Add(target);
        ProcessRunner.RunChecked("cp", "-a", NodeRoot(node) + "/.", target);
        return target;
    }

    public IReadOnlyList<ManifestRow> Manifest() =>
        File.ReadAllLines(Path.Combine(Directory, "manifest.tsv"))
            .Skip(1)
            .Select(line => line.Split('\t'))
            .Select(f => new ManifestRow(f[0], f[1], f[2], f[3], f[4], f.Length > 5 ? f[5] : ""))
            .ToList();

    public void Dispose()
    {
        foreach (var dir in _scratch.Append(Directory))
        {
            ScratchDirectory.Delete(dir);
        }
        GC.SuppressFinalize(this);
    }
}

public sealed class EcClusterPkiFixture() : ClusterPkiFixture("ec");

public sealed class RsaClusterPkiFixture() : ClusterPkiFixture("rsa");

public sealed record ManifestRow(string Node, string Path, string Subject, string Issuer, string NotAfter, string Sans);

/// <summary>Kubelets that rotate their own client certificate (kubelet-client-current.pem) and self-sign their serving one.</summary>
public sealed class KubeletRotationPkiFixture() : ClusterPkiFixture("ec", "--kubelet-rotation", "--masters", "1", "--workers", "1");

/// <summary>CAs made for 100 years, as cfssl runbooks often make them; one master, one worker.</summary>
public sealed class CenturyCaPkiFixture() : ClusterPkiFixture("ec", "--ca-days-left", "36500", "--masters", "1", "--workers", "1");

/// <summary>worker-1's kubelet client certificate expired two days ago: the emergency case.</summary>
public sealed class ExpiredNodePkiFixture() : ClusterPkiFixture("ec", "--expired-node", "worker-1", "--masters", "1", "--workers", "1");
