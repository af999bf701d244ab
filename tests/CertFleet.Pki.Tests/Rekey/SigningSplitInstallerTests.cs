using CertFleet.Pki.Files;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>The fixture master's split applied for real: copies, unit lines, the trust phase after it, and rollback.</summary>
public sealed class SigningSplitInstallerTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    internal const string Unit = "etc/systemd/system/kube-controller-manager.service";
    private const string Pki = "etc/kubernetes/pki";

    [Fact]
    public void Apply_FixtureMaster_RescanPlansNothingAndOnlyTheSigningFlagsChange()
    {
        var master = pki.CopyNode("master-1");
        var unitBefore = File.ReadAllLines(Path.Combine(master, Unit));

        var result = Apply(master);

        Assert.True(SigningSplitTests.Plan(master).IsEmpty);
        Assert.Equal(["/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key", "/" + Unit], result.Install.ChangedFiles);
        Assert.Equal(["kube-controller-manager.service"], result.Install.UnitsToRestart);
        Assert.True(result.DaemonReload);
        var unitAfter = File.ReadAllLines(Path.Combine(master, Unit));
        Assert.Equal(unitBefore.Length, unitAfter.Length);
        var changed = Enumerable.Range(0, unitBefore.Length).Where(i => unitBefore[i] != unitAfter[i]).Select(i => unitAfter[i].Trim()).ToList();
        Assert.Equal(["--cluster-signing-cert-file=/etc/kubernetes/pki/ca-signing.crt \\", "--cluster-signing-key-file=/etc/kubernetes/pki/ca-signing.key \\"], changed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(master, Pki, "ca.crt")), File.ReadAllBytes(Path.Combine(master, Pki, "ca-signing.crt")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(master, Pki, "ca.key")), File.ReadAllBytes(Path.Combine(master, Pki, "ca-signing.key")));
        Assert.Equal(File.GetUnixFileMode(Path.Combine(master, Pki, "ca.crt")), File.GetUnixFileMode(Path.Combine(master, Pki, "ca-signing.crt")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(master, Pki, "ca-signing.key")));
        Assert.Equal(Openssl.PublicKey(Path.Combine(master, Pki, "ca-signing.crt")),
            Openssl.Checked("pkey", "-in", Path.Combine(master, Pki, "ca-signing.key"), "-pubout"));
    }

    [Fact]
    public void Apply_ThenTrustPhase_BundlesCaAndLeavesTheSigningCopySingle()
    {
        var master = pki.CopyNode("master-1");
        Apply(master);
        using var newCa = NewAuthority.Create(OpensslScratch.LoadCertificate(Path.Combine(master, Pki, "ca.crt")),
            new NewAuthorityRequest(TimeSpan.FromDays(3650)), TimeProvider.System);

        var trust = TrustInstallerTests.Trust(master, newCa.Certificate);

        Assert.Contains("/etc/kubernetes/pki/ca.crt", trust.ChangedFiles);
        Assert.DoesNotContain("/etc/kubernetes/pki/ca-signing.crt", trust.ChangedFiles);
        Assert.Equal(2, CountCertificates(Path.Combine(master, Pki, "ca.crt")));
        Assert.Equal(1, CountCertificates(Path.Combine(master, Pki, "ca-signing.crt")));
        Assert.Equal(0, Openssl.Verify(Path.Combine(master, Pki, "ca.crt"), Path.Combine(master, Pki, "apiserver.crt")).ExitCode);
    }

    [Fact]
    public void Apply_ThenRestoreFromTheBackup_NodeByteForByteAndCopiesRemoved()
    {
        var master = pki.CopyNode("master-1");
        var before = FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups);

        var result = Apply(master);
        Assert.True(File.Exists(Path.Combine(master, Pki, "ca-signing.key")));
        var node = new NodeRoot(master);
        BackupSet.Open(node, result.Install.BackupDirectory!).RestoreAll();

        Assert.Empty(before.Differences(FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups)));
        Assert.False(SigningSplitTests.Plan(master).IsEmpty);
    }

    [Fact]
    public void Apply_KeyReadableByItsGroup_CopyIsOwnerOnly()
    {
        var master = pki.CopyNode("master-1");
        File.SetUnixFileMode(Path.Combine(master, Pki, "ca.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        Apply(master);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(master, Pki, "ca-signing.key")));
    }

    [Fact]
    public void Apply_UnitLineChangedSinceThePlan_RefusedAndNothingWritten()
    {
        var master = pki.CopyNode("master-1");
        using var inventory = TrustInstallerTests.Scan(master);
        var plan = PlanFor(inventory);
        var unit = Path.Combine(master, Unit);
        File.WriteAllText(unit, File.ReadAllText(unit).Replace("--cluster-signing-key-file=", "--cluster-signing-key-file=/other", StringComparison.Ordinal));
        var before = FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups);

        var error = Assert.Throws<PkiException>(() => new SigningSplitInstaller(TimeProvider.System).Apply(inventory, plan));

        Assert.Contains("is no longer", error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups)));
    }

    [Fact]
    public void Apply_CaKeyChangedSinceThePlan_RefusedAndNothingWritten()
    {
        var master = pki.CopyNode("master-1");
        using var inventory = TrustInstallerTests.Scan(master);
        var plan = PlanFor(inventory);
        File.AppendAllText(Path.Combine(master, Pki, "ca.key"), "\n");
        var before = FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups);

        var error = Assert.Throws<PkiException>(() => new SigningSplitInstaller(TimeProvider.System).Apply(inventory, plan));

        Assert.Contains("/etc/kubernetes/pki/ca.key: changed since the split was planned", error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(master, excludeUnder: TrustInstallerTests.Backups)));
    }

    [Fact]
    public void Apply_FlagsInAnEnvironmentFile_EditsOnlyThatFileWithoutDaemonReload()
    {
        var master = pki.CopyNode("master-1");
        SigningSplitTests.MoveFlagsToEnvironmentFile(master);
        var unitBefore = File.ReadAllBytes(Path.Combine(master, Unit));

        var result = Apply(master);

        Assert.True(SigningSplitTests.Plan(master).IsEmpty);
        Assert.Equal(["/etc/kubernetes/controller-manager.env", "/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key"],
            result.Install.ChangedFiles);
        Assert.False(result.DaemonReload);
        Assert.Equal(["kube-controller-manager.service"], result.Install.UnitsToRestart);
        Assert.Equal(unitBefore, File.ReadAllBytes(Path.Combine(master, Unit)));
        Assert.Contains("--cluster-signing-cert-file=/etc/kubernetes/pki/ca-signing.crt --cluster-signing-key-file=/etc/kubernetes/pki/ca-signing.key",
            File.ReadAllText(Path.Combine(master, "etc/kubernetes/controller-manager.env")), StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_FlagsInADropIn_EditsOnlyTheDropIn()
    {
        var master = pki.CopyNode("master-1");
        var unit = Path.Combine(master, Unit);
        var lines = File.ReadAllLines(unit).ToList();
        var exec = lines.FindIndex(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        var last = exec;
        while (lines[last].EndsWith('\\'))
        {
            last++;
        }
        var execLines = lines.GetRange(exec, last - exec + 1);
        lines.RemoveRange(exec, last - exec + 1);
        lines.Insert(exec, "ExecStart=/usr/local/bin/kube-controller-manager");
        File.WriteAllLines(unit, lines);
        var dropIn = Path.Combine(master, Unit + ".d", "10-flags.conf");
        Directory.CreateDirectory(Path.GetDirectoryName(dropIn)!);
        File.WriteAllLines(dropIn, ["[Service]", "ExecStart=", .. execLines]);
        var unitBefore = File.ReadAllBytes(unit);
        var dropInBefore = File.ReadAllLines(dropIn);

        var result = Apply(master);

        Assert.True(SigningSplitTests.Plan(master).IsEmpty);
        Assert.Contains("/" + Unit + ".d/10-flags.conf", result.Install.ChangedFiles);
        Assert.True(result.DaemonReload);
        Assert.Equal(unitBefore, File.ReadAllBytes(unit));
        var dropInAfter = File.ReadAllLines(dropIn);
        Assert.Equal(2, Enumerable.Range(0, dropInBefore.Length).Count(i => dropInBefore[i] != dropInAfter[i]));
    }

    [Fact]
    public void Apply_SecondTime_WritesNothing()
    {
        var master = pki.CopyNode("master-1");
        Apply(master);
        var before = FolderSnapshot.Take(master);

        var again = Apply(master);

        Assert.Same(SigningSplitResult.Nothing, again);
        Assert.Empty(before.Differences(FolderSnapshot.Take(master)));
    }

    /// <summary>Scan, plan and apply the split of the master's ca.crt, as the agent will.</summary>
    internal static SigningSplitResult Apply(string root)
    {
        using var inventory = TrustInstallerTests.Scan(root);
        return new SigningSplitInstaller(TimeProvider.System).Apply(inventory, PlanFor(inventory));
    }

    private static SigningSplitPlan PlanFor(CertFleet.Pki.Inventory.NodeInventory inventory)
    {
        var ca = inventory.Certificates.First(e => e.Path == "/" + TrustInstallerTests.CaFile).Certificate;
        return SigningSplit.Plan(inventory, TrustAnchors.Find(inventory, ca));
    }

    private static int CountCertificates(string file) =>
        File.ReadAllText(file).Split("-----BEGIN CERTIFICATE-----").Length - 1;
}
