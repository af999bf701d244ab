using CertFleet.Pki.Certificates;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>The split of the fixture masters' ca.crt (trusted and named by --cluster-signing-cert-file) as a plan, applied by <see cref="SigningSplitInstaller"/>.</summary>
public sealed class SigningSplitTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string Unit = "etc/systemd/system/kube-controller-manager.service";
    private const string Ca = "/etc/kubernetes/pki/ca.crt";

    [Fact]
    public void Plan_FixtureMaster_CopiesCaPairAndPointsOnlyTheSigningFlagsAtThem()
    {
        var master = pki.CopyNode("master-1");
        var before = FolderSnapshot.Take(master);

        var plan = Plan(master);

        Assert.Equal(["/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key"], plan.Copies.Select(c => c.Path));
        Assert.Equal(File.ReadAllBytes(Path.Combine(master, "etc/kubernetes/pki/ca.crt")), plan.Copies[0].Content);
        Assert.Equal(File.ReadAllBytes(Path.Combine(master, "etc/kubernetes/pki/ca.key")), plan.Copies[1].Content);
        Assert.Equal(
            [
                "/etc/systemd/system/kube-controller-manager.service:11 '  --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt \\' -> '  --cluster-signing-cert-file=/etc/kubernetes/pki/ca-signing.crt \\'",
                "/etc/systemd/system/kube-controller-manager.service:12 '  --cluster-signing-key-file=/etc/kubernetes/pki/ca.key \\' -> '  --cluster-signing-key-file=/etc/kubernetes/pki/ca-signing.key \\'",
            ],
            plan.Edits.Select(e => $"{e.File}:{e.Line} '{e.OldText}' -> '{e.NewText}'"));
        Assert.Equal(["kube-controller-manager.service"], plan.UnitsToRestart);
        Assert.Empty(before.Differences(FolderSnapshot.Take(master)));
    }

    [Fact]
    public void Plan_Applied_NothingLeftToSplitAndTheTrustPhaseBundlesCaWhileTheSigningCopyKeepsOneCertificate()
    {
        var master = pki.CopyNode("master-1");
        SigningSplitInstallerTests.Apply(master);

        Assert.True(Plan(master).IsEmpty);
        using var inventory = TrustInstallerTests.Scan(master);
        var oldCa = inventory.Certificates.First(e => e.Path == Ca).Certificate;
        var found = TrustAnchors.Find(inventory, oldCa);
        var signing = Assert.Single(found.Signing, a => a.Units.Count > 0);
        Assert.Equal("/etc/kubernetes/pki/ca-signing.crt", signing.Path);
        Assert.Equal("/etc/kubernetes/pki/ca-signing.key", signing.KeyPath);
        Assert.Contains("kube-controller-manager.service: --root-ca-file", found.Trusting.Single(a => a.Path == Ca).NamedBy);

        using var newCa = NewAuthority.Create(oldCa, new NewAuthorityRequest(TimeSpan.FromDays(3650)), TimeProvider.System);
        var result = new TrustInstaller(TimeProvider.System).Trust(inventory, found, oldCa, newCa.Certificate);

        Assert.Contains(Ca, result.ChangedFiles);
        Assert.DoesNotContain("/etc/kubernetes/pki/ca-signing.crt", result.ChangedFiles);
        Assert.Equal(1, CountCertificates(Path.Combine(master, "etc/kubernetes/pki/ca-signing.crt")));
        Assert.Equal(2, CountCertificates(Path.Combine(master, "etc/kubernetes/pki/ca.crt")));
        var leaf = Path.Combine(master, "etc/kubernetes/pki/apiserver.crt");
        Assert.Equal(0, Openssl.Verify(Path.Combine(master, "etc/kubernetes/pki/ca.crt"), leaf).ExitCode);
        Assert.Equal(Openssl.PublicKey(Path.Combine(master, "etc/kubernetes/pki/ca-signing.crt")),
            Openssl.Checked("pkey", "-in", Path.Combine(master, "etc/kubernetes/pki/ca-signing.key"), "-pubout"));
    }

    [Fact]
    public void Plan_FlagsInAnEnvironmentFile_EditsThatFile()
    {
        var master = pki.CopyNode("master-1");
        MoveFlagsToEnvironmentFile(master);

        var plan = Plan(master);

        var edits = plan.Edits.Select(e => (e.File, e.Line, e.Setting)).ToList();
        Assert.Equal([("/etc/kubernetes/controller-manager.env", 2, "--cluster-signing-cert-file, --cluster-signing-key-file")], edits);
        var text = plan.Edits.Aggregate(File.ReadAllText(Path.Combine(master, "etc/kubernetes/controller-manager.env")), (t, e) => e.ApplyTo(t));
        Assert.Contains("--cluster-signing-cert-file=/etc/kubernetes/pki/ca-signing.crt --cluster-signing-key-file=/etc/kubernetes/pki/ca-signing.key --root-ca-file=/etc/kubernetes/pki/ca.crt", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_FlagThroughAVariable_RefusedWithTheStepsByHand()
    {
        var master = pki.CopyNode("master-1");
        var unit = Path.Combine(master, Unit);
        File.WriteAllText(unit, File.ReadAllText(unit)
            .Replace("--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt", "--cluster-signing-cert-file=${PKI}/ca.crt", StringComparison.Ordinal)
            .Replace("[Service]\n", "[Service]\nEnvironment=PKI=/etc/kubernetes/pki\n", StringComparison.Ordinal));

        var error = Assert.Throws<PkiException>(() => Plan(master));

        Assert.Contains("--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt appears in no line CertFleet can edit", error.Message, StringComparison.Ordinal);
        Assert.Contains("copy /etc/kubernetes/pki/ca.crt to /etc/kubernetes/pki/ca-signing.crt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_SigningCopyNameTakenByAnotherFile_Refused()
    {
        var master = pki.CopyNode("master-1");
        File.Copy(Path.Combine(master, "etc/kubernetes/pki/apiserver.crt"), Path.Combine(master, "etc/kubernetes/pki/ca-signing.crt"));

        var error = Assert.Throws<PkiException>(() => Plan(master));

        Assert.Contains("/etc/kubernetes/pki/ca-signing.crt: already exists with other content", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplyTo_LineChangedSinceThePlan_Refused()
    {
        var edit = new UnitLineEdit("/u.service", 2, "--x", "  --x=/a \\", "  --x=/b \\");

        Assert.Equal("[Service]\n  --x=/b \\\n", edit.ApplyTo("[Service]\n  --x=/a \\\n"));
        Assert.Throws<PkiException>(() => edit.ApplyTo("[Service]\n  --x=/c \\\n"));
    }

    /// <summary>The controller manager's flags moved from its unit into one variable of an EnvironmentFile.</summary>
    internal static void MoveFlagsToEnvironmentFile(string master)
    {
        var unit = Path.Combine(master, Unit);
        var lines = File.ReadAllLines(unit).ToList();
        var flags = lines.Where(l => l.TrimStart().StartsWith("--", StringComparison.Ordinal)).Select(l => l.Trim().TrimEnd('\\').Trim()).ToList();
        lines.RemoveAll(l => l.TrimStart().StartsWith("--", StringComparison.Ordinal));
        var exec = lines.FindIndex(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        lines[exec] = "ExecStart=/usr/local/bin/kube-controller-manager $KUBE_CONTROLLER_MANAGER_ARGS";
        lines.Insert(exec, "EnvironmentFile=/etc/kubernetes/controller-manager.env");
        File.WriteAllLines(unit, lines);
        File.WriteAllText(Path.Combine(master, "etc/kubernetes/controller-manager.env"),
            $"# flags\nKUBE_CONTROLLER_MANAGER_ARGS=\"{string.Join(' ', flags)}\"\n");
    }

    internal static SigningSplitPlan Plan(string root)
    {
        using var inventory = TrustInstallerTests.Scan(root);
        var ca = inventory.Certificates.First(e => e.Path == Ca).Certificate;
        return SigningSplit.Plan(inventory, TrustAnchors.Find(inventory, ca));
    }

    private static int CountCertificates(string file) =>
        File.ReadAllText(file).Split("-----BEGIN CERTIFICATE-----").Length - 1;
}
