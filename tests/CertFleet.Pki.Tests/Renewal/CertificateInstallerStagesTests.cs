using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;
using CertFleet.Testing.Guides;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Pki.Tests.Renewal;

/// <summary>The stages an observer (the agent's journal) is told of, and what is on disk at each.</summary>
public sealed class CertificateInstallerStagesTests(EcClusterPkiFixture pki, OptLayout layout)
    : IClassFixture<EcClusterPkiFixture>, IClassFixture<OptLayout>
{
    [Fact]
    public void Install_WithObserver_NoFileChangesUntilEveryTemporaryIsWrittenThenEachRenameIsReported()
    {
        var master = pki.CopyNode("master-1");
        var renewed = RenewalRun.Renew(master, authorities: false);
        var proxy = renewed.Renewed.Single(r => r.Plan.Current.Subject == "CN=system:kube-proxy");
        var worker = pki.CopyNode("worker-1");
        var before = FolderSnapshot.Take(worker, excludeUnder: "var/lib/certfleet");
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(worker));
        var observer = new RecordingObserver(worker, before);

        var result = new CertificateInstaller(TimeProvider.System).Install(inventory,
            new Dictionary<string, CertificateInfo> { [proxy.Plan.Current.Sha256Fingerprint] = proxy.Certificate }, observer);

        Assert.Equal(
            [
                $"backup started in {result.BackupDirectory}: empty; 0 changed, 0 temporaries",
                $"backed up to {result.BackupDirectory}: /etc/kubernetes/kube-proxy.kubeconfig, /etc/kubernetes/pki/kube-proxy.crt; 0 changed, 0 temporaries",
                "prepared: 0 changed, 2 temporaries",
                "renamed 1 /etc/kubernetes/kube-proxy.kubeconfig: 1 changed, 1 temporaries",
                "renamed 2 /etc/kubernetes/pki/kube-proxy.crt: 2 changed, 0 temporaries",
            ],
            observer.Seen);
    }

    [Fact]
    public void Install_KubeletClientBehindItsLink_NewDatedFileIsRenamedBeforeTheLinkMoves()
    {
        var root = layout.Copy("master");
        var before = FolderSnapshot.Take(root, excludeUnder: "var/lib/certfleet");
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var (current, renewed) = RotationLinkInstallTests.RenewKubeletClient(inventory);
        var observer = new RecordingObserver(root, before);

        var result = new CertificateInstaller(new FakeTimeProvider(new DateTimeOffset(2027, 3, 4, 5, 6, 7, TimeSpan.Zero))).Install(inventory,
            new Dictionary<string, CertificateInfo> { [current.Certificate.Sha256Fingerprint] = renewed }, observer);

        const string NewFile = "/opt/kubernetes/ssl/kubelet-client-2027-03-04-05-06-07.pem";
        Assert.Equal(
            [
                $"backup started in {result.BackupDirectory}: empty; 0 changed, 0 temporaries",
                $"backed up to {result.BackupDirectory}: {NewFile}, {OptLayout.ClientLink}; 0 changed, 0 temporaries",
                "prepared: 0 changed, 2 temporaries",
                $"renamed 1 {NewFile}: 1 changed, 1 temporaries",
                $"renamed 2 {OptLayout.ClientLink}: 2 changed, 0 temporaries",
            ],
            observer.Seen);
    }

    private sealed class RecordingObserver(string root, FolderSnapshot before) : IInstallObserver
    {
        public List<string> Seen { get; } = [];

        public void BackupStarted(string backupNodeDirectory) =>
            Seen.Add($"backup started in {backupNodeDirectory}: {(Directory.EnumerateFileSystemEntries(Path.Combine(root, backupNodeDirectory.TrimStart('/'))).Any() ? "not empty" : "empty")}; {Disk()}");

        public void BackedUp(string backupNodeDirectory, IReadOnlyList<string> changedFiles) =>
            Seen.Add($"backed up to {backupNodeDirectory}: {string.Join(", ", changedFiles)}; {Disk()}");

        public void Prepared() => Seen.Add($"prepared: {Disk()}");

        public void Renamed(int count, string path) => Seen.Add($"renamed {count} {path}: {Disk()}");

        private string Disk()
        {
            var changed = before.Differences(FolderSnapshot.Take(root, excludeUnder: "var/lib/certfleet"))
                .Count(p => !AtomicFile.IsTemporary(Path.GetFileName(p)));
            var temporaries = Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
                .Count(p => AtomicFile.IsTemporary(Path.GetFileName(p)) && !p.Contains("/var/lib/certfleet/", StringComparison.Ordinal));
            return $"{changed} changed, {temporaries} temporaries";
        }
    }
}
