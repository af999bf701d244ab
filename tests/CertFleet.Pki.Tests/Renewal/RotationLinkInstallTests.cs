using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Tests.Files;
using CertFleet.Testing;
using CertFleet.Testing.Guides;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Pki.Tests.Renewal;

/// <summary>
/// The kubelet's rotated client certificate, renewed by CertFleet because the kubelet's rotation is off: installed as
/// the kubelet itself would, a new dated kubelet-client-&lt;date&gt;.pem and the -current.pem link moved to it.
/// </summary>
public sealed class RotationLinkInstallTests(OptLayout layout) : IClassFixture<OptLayout>
{
    private const string Link = OptLayout.ClientLink;
    private const string Backups = "var/lib/certfleet";

    private static readonly DateTimeOffset Now = new(2027, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private static readonly string NewFile = $"{OptLayout.CertificateDirectory}/kubelet-client-2027-03-04-05-06-07.pem";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Install_KubeletClientBehindItsLink_WritesANewDatedFileAndMovesTheLinkInTheLinksOwnStyle(bool absoluteLink)
    {
        var root = layout.Copy("master");
        var oldTarget = ReadLink(root);
        if (!absoluteLink)
        {
            Relink(root, Path.GetFileName(oldTarget));
        }
        var oldFile = Host(root, oldTarget);
        var oldBytes = File.ReadAllBytes(oldFile);
        FileFacts.Chown(oldFile, 1234, 2345);
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var (current, renewed) = RenewKubeletClient(inventory);

        var result = Installer().Install(inventory, new Dictionary<string, CertificateInfo> { [current.Certificate.Sha256Fingerprint] = renewed });

        Assert.Equal(absoluteLink ? NewFile : Path.GetFileName(NewFile), ReadLink(root));
        Assert.Equal([NewFile, Link], result.ChangedFiles);
        Assert.Equal(["kubelet.service"], result.UnitsToRestart);
        var pair = Host(root, NewFile);
        Assert.Equal(pair, Current(root));
        Assert.Equal(renewed.SerialHex, Openssl.Serial(pair), ignoreCase: true);
        Assert.Equal(Openssl.PublicKey(pair), Openssl.Checked("pkey", "-in", pair, "-pubout"));
        var verify = Openssl.Verify(Host(root, "/opt/kubernetes/ssl/ca.pem"), pair);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        var facts = FileFacts.Of(pair);
        Assert.Equal(("600", 1234, 2345, "regular file"), (facts.Mode, facts.Uid, facts.Gid, facts.Type));
        // the key is kept as it was, byte for byte; the old dated file is left as the kubelet leaves its old ones
        Assert.EndsWith(KeyBlock(File.ReadAllText(oldFile)), File.ReadAllText(pair), StringComparison.Ordinal);
        Assert.Equal(oldBytes, File.ReadAllBytes(oldFile));
    }

    [Fact]
    public void Install_ADatedFileOfThisSecondExists_TakesTheNextSecondAndLeavesThatFileAlone()
    {
        var root = layout.Copy("master");
        var taken = Host(root, NewFile);
        File.WriteAllText(taken, "written by someone else in that very second\n");
        var takenBytes = File.ReadAllBytes(taken);
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var (current, renewed) = RenewKubeletClient(inventory);

        Installer().Install(inventory, new Dictionary<string, CertificateInfo> { [current.Certificate.Sha256Fingerprint] = renewed });

        Assert.Equal($"{OptLayout.CertificateDirectory}/kubelet-client-2027-03-04-05-06-08.pem", ReadLink(root));
        Assert.Equal(takenBytes, File.ReadAllBytes(taken));
        Assert.Equal(renewed.SerialHex, Openssl.Serial(Current(root)), ignoreCase: true);
    }

    [Fact]
    public void RestoreAll_AfterALinkInstall_PutsTheLinkBackAndRemovesTheNewDatedFile()
    {
        var root = layout.Copy("master");
        var oldTarget = ReadLink(root);
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var (current, renewed) = RenewKubeletClient(inventory);
        var result = Installer().Install(inventory, new Dictionary<string, CertificateInfo> { [current.Certificate.Sha256Fingerprint] = renewed });

        BackupSet.Open(new NodeRoot(root), result.BackupDirectory!).RestoreAll();

        Assert.Equal(oldTarget, ReadLink(root));
        Assert.False(File.Exists(Host(root, NewFile)));
        Assert.Empty(before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)));
        Assert.Equal(current.Certificate.SerialHex, Openssl.Serial(Current(root)), ignoreCase: true);
    }

    internal static (CertificateEntry Current, CertificateInfo Renewed) RenewKubeletClient(NodeInventory inventory)
    {
        var plan = new RenewalPlanner(TimeProvider.System).Plan(inventory, new RenewalOptions());
        var leaf = plan.Leaves.Single(l => l.Occurrences.Any(o => o.RotationLink == Link));
        var renewed = new CertificateRenewer(TimeProvider.System).Issue(plan with { Authorities = [], Leaves = [leaf] }, new RenewalOptions());
        return (leaf.Occurrences.First(o => o.RotationLink == Link), renewed.Single().Certificate);
    }

    internal static string ReadLink(string root) => ProcessRunner.RunChecked("readlink", Host(root, Link)).StandardOutput.TrimEnd('\n');

    /// <summary>The host path of the file the link leads to on the node (openssl on the host would follow it out of the root).</summary>
    internal static string Current(string root) => Host(root, ReadLink(root));

    /// <summary>A node path, or a name in the certificate folder as a relative link holds it, on the host.</summary>
    internal static string Host(string root, string pathOnNode) =>
        Path.Combine(root, (pathOnNode.StartsWith('/') ? pathOnNode : $"{OptLayout.CertificateDirectory}/{pathOnNode}").TrimStart('/'));

    private static CertificateInstaller Installer() => new(new FakeTimeProvider(Now));

    private static void Relink(string root, string target) => ProcessRunner.RunChecked("ln", "-sfn", target, Host(root, Link));

    private static string KeyBlock(string pair) => pair[pair.IndexOf("-----BEGIN EC PRIVATE KEY-----", StringComparison.Ordinal)..];
}
