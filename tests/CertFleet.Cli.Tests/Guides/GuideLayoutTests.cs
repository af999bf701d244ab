using System.Text.Json;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;
using CertFleet.Testing.Guides;

namespace CertFleet.Cli.Tests.Guides;

/// <summary>
/// `check-expiration`, `renew --local` and `verify --local` on a master and a worker rebuilt from a public guide,
/// against an oracle that walks every file of the node with openssl and a YAML parser, and the guide's own word
/// (NODE.uses.tsv) for which unit uses which file. Each guide's class says only what is particular to it: the
/// guide's working folders that are no node's certificates, and what a node cannot renew itself and why.
/// </summary>
public abstract partial class GuideLayoutTests<TLayout>(TLayout layout) : IClassFixture<TLayout> where TLayout : GuideLayout
{
    private static readonly TimeSpan Month = TimeSpan.FromDays(30);

    /// <summary>The guide's master and worker, for the tests of one guide's particulars.</summary>
    protected TLayout Layout => layout;

    /// <summary>Folders of the node the guide leaves certificates in that no service uses (the operator's working copies).</summary>
    protected virtual IReadOnlyList<string> WorkingFolders(string node) => [];

    /// <summary>
    /// The certificates `renew --local --ca` must leave alone on this node (they may expire within 30 days), by the
    /// start of their display name ("/path" or "/path (user u)"), with a fragment of the reason it must give.
    /// </summary>
    protected abstract IReadOnlyDictionary<string, string> LeftAlone(string node);

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void CheckExpiration_GuideNode_FindsEveryCertificateInEveryFileAndKubeconfig(string node)
    {
        var listed = CheckExpiration(layout.NodeRoot(node));

        Assert.DoesNotContain(listed, e => e.Error is not null);
        var missing = Oracle(layout.NodeRoot(node), node)
            .Where(c => !listed.Any(e => e.Path == c.Path && e.KubeconfigUser == c.KubeconfigUser && e.Serial == c.Serial))
            .Select(c => c.ToString())
            .ToList();
        Assert.True(missing.Count == 0, $"{layout.Script} {node}: check-expiration does not list {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void CheckExpiration_GuideNode_NamesExactlyTheUnitsThatUseEachCertificate(string node)
    {
        var root = layout.NodeRoot(node);
        var listed = CheckExpiration(root);
        var uses = layout.Uses(node).Select(u => (u.Unit, Path: Resolve(root, u.Path))).ToList();

        var problems = new List<string>();
        foreach (var (unit, path) in uses.Distinct())
        {
            problems.AddRange(listed.Where(e => e.Path == path && !e.UsedBy.Contains(unit))
                .Select(e => $"{e} is used by {unit}, but usedBy says [{string.Join(", ", e.UsedBy)}]"));
        }
        foreach (var entry in listed)
        {
            problems.AddRange(entry.UsedBy.Where(unit => !uses.Contains((unit, entry.Path)))
                .Select(unit => $"{entry}: usedBy names {unit}, which does not use it"));
        }
        Assert.True(problems.Count == 0, $"{layout.Script} {node}:\n  " + string.Join("\n  ", problems.Distinct()));
    }

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void RenewLocal_GuideNode_LeavesNothingItCanRenewExpiringAndKeepsEveryIdentity(string node)
    {
        var root = layout.Copy(node);
        var before = Oracle(root, node);

        var (exitCode, output, error) = CliRun.Invoke("renew", "--local", "--ca", "--root", root);

        Assert.True(exitCode == 0, $"renew --local --ca exited {exitCode}: {output}{error}");
        var after = Oracle(root, node);
        var leftAlone = LeftAlone(node);
        var problems = new List<string>();
        foreach (var old in before)
        {
            var now = after.FirstOrDefault(c => c.ToString() == old.ToString() && c.Serial == old.Serial)
                ?? after.FirstOrDefault(c => c.ToString() == old.ToString() && NodeCertificates.Identity(c.Pem) == NodeCertificates.Identity(old.Pem))
                ?? after.FirstOrDefault(c => c.Path != old.Path && c.Subject == old.Subject && NodeCertificates.Identity(c.Pem) == NodeCertificates.Identity(old.Pem));
            if (now is null && output.Contains($"{old.Path}: the kubelet's throwaway CA {old.Subject} (its key is gone) leaves the file", StringComparison.Ordinal))
            {
                continue; // client-go's kubelet.crt: the CA signed only the serving certificate, which is now self-signed
            }
            if (now is null)
            {
                problems.Add($"{old}: gone after the renewal, or renewed with another subject, key, names or usages");
                continue;
            }
            if (ReplacedByTheKubeletsNewDatedFile(root, old, after))
            {
                continue;
            }
            var allowed = leftAlone.FirstOrDefault(l => old.ToString().StartsWith(l.Key, StringComparison.Ordinal));
            if (now.NotAfter < DateTimeOffset.UtcNow + Month && allowed.Key is null)
            {
                problems.Add($"{old}: still expires on {now.NotAfter:yyyy-MM-dd}, though this node can renew it");
            }
            if (allowed.Key is not null && now.NotAfter < DateTimeOffset.UtcNow + Month && !output.Contains(allowed.Value, StringComparison.Ordinal))
            {
                problems.Add($"{old}: left alone, but renew's output does not say '{allowed.Value}'");
            }
        }
        Assert.True(problems.Count == 0, $"{layout.Script} {node}:\n  " + string.Join("\n  ", problems) + "\n" + output);

        // nothing left that the node's own check complains about, but what the guide leaves to others
        var verify = CliRun.Invoke("verify", "--local", "--root", root, "--warn-within", "5");
        Assert.True(verify.ExitCode == 0, $"verify --local after the renewal exited {verify.ExitCode}:\n{verify.Output}{verify.Error}");
    }

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void RenewLocal_GuideNode_PrintsTheRestartsOfEveryUnitUsingARenewedFileInRunbookOrder(string node)
    {
        var root = layout.Copy(node);
        var before = Oracle(root, node);

        var (_, output, _) = CliRun.Invoke("renew", "--local", "--ca", "--root", root);

        var after = Oracle(root, node);
        var changedPaths = before.Where(b => !after.Any(a => a.ToString() == b.ToString() && a.Serial == b.Serial)).Select(b => b.Path).ToHashSet();
        var uses = layout.Uses(node).Select(u => (u.Unit, Path: Resolve(root, u.Path))).ToList();
        var expected = RestartOrder.Sort(uses.Where(u => changedPaths.Contains(u.Path)).Select(u => u.Unit));
        if (expected.Count == 0)
        {
            Assert.DoesNotContain("systemctl restart", output, StringComparison.Ordinal);
            return;
        }
        Assert.Contains("  systemctl restart " + string.Join(" && systemctl restart ", expected) + "\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void VerifyLocal_GuideNode_NamesEveryCertificateExpiringWithinThirtyDays(string node)
    {
        var root = layout.NodeRoot(node);
        var expiring = Oracle(root, node).Where(c => c.NotAfter < DateTimeOffset.UtcNow + Month).ToList();

        var (exitCode, output, _) = CliRun.Invoke("verify", "--local", "--root", root);

        Assert.NotEmpty(expiring);
        Assert.Equal(1, exitCode);
        Assert.All(expiring, c => Assert.Contains(c.KubeconfigUser is null ? c.Path : $"{c.Path} (user {c.KubeconfigUser})", output, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void VerifyLocal_GuideNodeWithAMissingFile_NamesTheFileAndWhoNamesIt(string node)
    {
        var root = layout.Copy(node);
        // a certificate file a unit uses (not through a link), and a file a kubeconfig names, when the guide has one
        var targets = layout.Uses(node).Select(u => u.Path).Distinct()
            .Where(p => !IsLink(root, p) && IsCertificateFile(root, p) && !p.Contains("kubeconfig", StringComparison.Ordinal))
            .Take(1)
            .Concat(KubeconfigNamedFiles(root).Take(1))
            .Distinct()
            .ToList();
        Assert.NotEmpty(targets);
        foreach (var path in targets)
        {
            File.Delete(Path.Combine(root, path.TrimStart('/')));
        }

        var (exitCode, output, _) = CliRun.Invoke("verify", "--local", "--root", root, "--warn-within", "0");

        Assert.Equal(1, exitCode);
        Assert.All(targets, path => Assert.Contains(path, output, StringComparison.Ordinal));
        Assert.Contains("does not exist", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("master")]
    [InlineData("worker")]
    public void VerifyLocal_GuideNodeWithASwappedKey_SaysTheKeyDoesNotMatch(string node)
    {
        var root = layout.Copy(node);
        var keys = layout.Uses(node).Select(u => u.Path).Distinct()
            .Where(p => !IsLink(root, p) && (p.EndsWith("key.pem", StringComparison.Ordinal) || p.EndsWith(".key", StringComparison.Ordinal)))
            .Where(p => File.Exists(Path.Combine(root, p.TrimStart('/'))) && !File.ReadAllText(Path.Combine(root, p.TrimStart('/'))).Contains("CERTIFICATE", StringComparison.Ordinal))
            .ToList();
        if (keys.Count < 2)
        {
            // the worker of some guides has no key file a unit names (the kubelet's is in its dated file): any key file
            keys = [.. keys, .. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => (f.EndsWith("key.pem", StringComparison.Ordinal) || f.EndsWith(".key", StringComparison.Ordinal)) && new FileInfo(f).LinkTarget is null)
                .Select(f => "/" + Path.GetRelativePath(root, f))];
        }
        Assert.True(keys.Count >= 1, "no key file to swap");
        var victim = Path.Combine(root, keys[0].TrimStart('/'));
        // another key of the same kind from outside the node: a typo'd copy from the wrong folder
        var text = File.ReadAllText(victim);
        var replacement = text.Contains("EC PRIVATE KEY", StringComparison.Ordinal)
            ? ProcessRunner.RunChecked("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout").StandardOutput
            : ProcessRunner.RunChecked("openssl", "genrsa", "-traditional", "2048").StandardOutput;
        File.WriteAllText(victim, replacement);

        var (exitCode, output, _) = CliRun.Invoke("verify", "--local", "--root", root, "--warn-within", "0");

        Assert.Equal(1, exitCode);
        Assert.Contains($"{keys[0]} does not match", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A dated kubelet-client/-server file no link names any more, whose identity a file the link now names holds
    /// unexpiring: renewed as the kubelet renews it (a new dated file, the -current link moved), the old file kept as
    /// the kubelet keeps its old ones.
    /// </summary>
    private static bool ReplacedByTheKubeletsNewDatedFile(string root, OracleCertificate old, IReadOnlyList<OracleCertificate> after)
    {
        if (!KubeletDatedFile().IsMatch(Path.GetFileName(old.Path)))
        {
            return false;
        }
        var linked = Directory.EnumerateFiles(Path.Combine(root, Path.GetDirectoryName(old.Path)!.TrimStart('/')))
            .Where(f => new FileInfo(f).LinkTarget is not null)
            .Select(f => Resolve(root, "/" + Path.GetRelativePath(root, f)))
            .ToHashSet();
        return !linked.Contains(old.Path) && after.Any(c => linked.Contains(c.Path) && c.Subject == old.Subject
            && c.NotAfter >= DateTimeOffset.UtcNow + Month && NodeCertificates.Identity(c.Pem) == NodeCertificates.Identity(old.Pem));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^kubelet-(client|server)-\d{4}(-\d{2}){5}\.pem$")]
    private static partial System.Text.RegularExpressions.Regex KubeletDatedFile();

    private IReadOnlyList<OracleCertificate> Oracle(string root, string node) => NodeCertificates.Walk(root, WorkingFolders(node));

    private static bool IsLink(string root, string path) => new FileInfo(Path.Combine(root, path.TrimStart('/'))).LinkTarget is not null;

    private static bool IsCertificateFile(string root, string path)
    {
        var file = Path.Combine(root, path.TrimStart('/'));
        return File.Exists(file) && File.ReadAllText(file).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
    }

    /// <summary>Files the node's kubeconfigs name by path (client-certificate: /x), not through a link.</summary>
    private static IEnumerable<string> KubeconfigNamedFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).LinkTarget is null && new FileInfo(f).Length < 1 << 20)
            .SelectMany(f => File.ReadAllLines(f))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("client-certificate: /", StringComparison.Ordinal))
            .Select(line => line["client-certificate: ".Length..])
            .Where(path => !IsLink(root, path) && File.Exists(Path.Combine(root, path.TrimStart('/'))))
            .Distinct();

    /// <summary>A node path with its symlinks followed inside the node, as the scanner names files.</summary>
    private static string Resolve(string root, string path)
    {
        for (var i = 0; i < 8 && new FileInfo(Path.Combine(root, path.TrimStart('/'))).LinkTarget is { } target; i++)
        {
            path = target.StartsWith('/') ? target : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
        }
        return path;
    }

    private static List<ListedCertificate> CheckExpiration(string root)
    {
        var (exitCode, output, error) = CliRun.Invoke("check-expiration", "--root", root, "-o", "json");
        Assert.True(exitCode == 0, $"check-expiration exited {exitCode}: {error}");
        using var json = JsonDocument.Parse(output);
        return json.RootElement.EnumerateArray().Select(e => new ListedCertificate(
            e.GetProperty("path").GetString()!,
            e.TryGetProperty("kubeconfigUser", out var user) ? user.GetString() : null,
            e.TryGetProperty("serial", out var serial) ? serial.GetString() : null,
            e.TryGetProperty("usedBy", out var usedBy) ? usedBy.EnumerateArray().Select(u => u.GetString()!).ToList() : [],
            e.TryGetProperty("error", out var failure) ? failure.GetString() : null)).ToList();
    }

    private sealed record ListedCertificate(string Path, string? KubeconfigUser, string? Serial, IReadOnlyList<string> UsedBy, string? Error)
    {
        public override string ToString() => KubeconfigUser is null ? Path : $"{Path} (user {KubeconfigUser})";
    }
}
