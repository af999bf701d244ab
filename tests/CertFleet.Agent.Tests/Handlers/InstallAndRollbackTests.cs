using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Handlers;
using CertFleet.Agent.Steps;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;

namespace CertFleet.Agent.Tests.Handlers;

public sealed class InstallAndRollbackTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string Backups = "var/lib/certfleet";

    [Fact]
    public void InstallHandler_RenewedCertificates_ReplacesEveryCopyAndJournalsTheStep()
    {
        var root = pki.CopyNode("master-1");
        using var agent = new AgentUnderTest(root);
        var oldAdmin = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki/admin.crt"));
        var request = Install("step-1", (root, "admin.crt"), (root, "apiserver.crt"));

        var result = agent.Get<InstallHandler>().Handle(request);

        Assert.True(result.Ok, result.Message);
        var newAdmin = CertificateInfo.Parse(request.Replacements[0].CertificateDer.Span, "new admin");
        Assert.Equal(newAdmin.SerialHex, Openssl.Serial(Path.Combine(root, "etc/kubernetes/pki/admin.crt")), ignoreCase: true);
        var report = agent.Get<InventoryHandler>().Handle();
        Assert.DoesNotContain(report.Certificates, c => CertificateInfo.Parse(c.Der.Span, c.Path).Sha256Fingerprint == oldAdmin.Sha256Fingerprint);
        Assert.Equal(["/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/admin.crt"],
            report.Certificates.Where(c => CertificateInfo.Parse(c.Der.Span, c.Path).Sha256Fingerprint == newAdmin.Sha256Fingerprint).Select(c => c.Path).Order(StringComparer.Ordinal));
        Assert.Equal(["/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/admin.crt", "/etc/kubernetes/pki/apiserver.crt"], result.ChangedFiles);
        Assert.Contains("kube-apiserver.service", result.UnitsToRestart);
        Assert.True(Directory.Exists(Path.Combine(root, result.BackupDirectory.TrimStart('/'))));
        var journaled = new StepJournal(agent.StateDirectory).Find("step-1");
        Assert.Equal(result.BackupDirectory, journaled?.BackupDirectory);
        Assert.Equal(result.ChangedFiles, journaled?.ChangedFiles);
    }

    [Fact]
    public void InstallHandler_SameStepTwice_SecondAnsweredFromJournalWithoutSecondBackup()
    {
        var root = pki.CopyNode("master-1");
        using var agent = new AgentUnderTest(root);
        var request = Install("step-twice", (root, "apiserver.crt"));
        var first = agent.Get<InstallHandler>().Handle(request);
        var afterFirst = FolderSnapshot.Take(root);

        using var restarted = new AgentUnderTest(root, stateDirectory: agent.StateDirectory);
        var second = restarted.Get<InstallHandler>().Handle(request);

        Assert.True(first.Ok, first.Message);
        Assert.Equal(first, second);
        Assert.Empty(afterFirst.Differences(FolderSnapshot.Take(root)));
        Assert.Single(Directory.GetDirectories(Path.Combine(root, Backups, "backups")));
    }

    [Fact]
    public void InstallHandler_ReplacementWithAnotherKey_RefusedAndNothingChanges()
    {
        var root = pki.CopyNode("master-1");
        using var agent = new AgentUnderTest(root);
        var before = FolderSnapshot.Take(root);
        var admin = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki/admin.crt"));
        var request = new InstallRequest
        {
            StepId = "wrong-key",
            Replacements = { new Replacement { OldFingerprint = admin.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(AgentUnderTest.Renew(root, "apiserver.crt").Der) } },
        };

        var result = agent.Get<InstallHandler>().Handle(request);

        Assert.False(result.Ok);
        Assert.Contains("different public key", result.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    [Fact]
    public void InstallHandler_ReplacementFromAForeignCa_FailsVerificationAndIsPutBack()
    {
        var root = pki.CopyNode("master-1");
        using var agent = new AgentUnderTest(root);
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);
        var apiserver = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));
        var request = new InstallRequest
        {
            StepId = "foreign",
            Replacements = { new Replacement { OldFingerprint = apiserver.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(SignedByForeignCa(apiserver)) } },
        };

        var result = agent.Get<InstallHandler>().Handle(request);

        Assert.False(result.Ok);
        Assert.Contains("failed local verification and was rolled back", result.Message);
        Assert.Contains("/etc/kubernetes/pki/apiserver.crt: does not chain to a CA on this node", result.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)));
    }

    [Fact]
    public async Task RollbackHandler_AfterInstallAndAgentRestart_RestoresExactBytesAndRestartsUnits()
    {
        var root = pki.CopyNode("master-1");
        using var scratch = new ScratchFolder();
        var record = Path.Combine(scratch.Path, "restarts.log");
        var before = FolderSnapshot.Take(root, excludeUnder: Backups);
        using var agent = new AgentUnderTest(root, restartCommand: $"echo {{unit}} >> {record}");
        var install = agent.Get<InstallHandler>().Handle(Install("install-1", (root, "admin.crt"), (root, "apiserver.crt")));
        Assert.True(install.Ok, install.Message);
        Assert.NotEmpty(before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)));

        using var restarted = new AgentUnderTest(root, restartCommand: $"echo {{unit}} >> {record}", stateDirectory: agent.StateDirectory);
        var result = await restarted.Get<RollbackHandler>().HandleAsync(
            new RollbackRequest { StepId = "rollback-1", InstallStepId = "install-1", Units = { "kube-apiserver.service" } }, CancellationToken.None);

        Assert.True(result.Ok, result.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups)));
        Assert.Equal(install.ChangedFiles, result.ChangedFiles);
        Assert.Equal(["kube-apiserver.service"], File.ReadAllLines(record));
    }

    [Fact]
    public async Task RollbackHandler_InstallNeverBegun_NothingToRollBackAndChangesNothing()
    {
        var root = pki.CopyNode("worker-1");
        using var agent = new AgentUnderTest(root);
        var before = FolderSnapshot.Take(root);

        var result = await agent.Get<RollbackHandler>().HandleAsync(
            new RollbackRequest { StepId = "rb", InstallStepId = "never-ran" }, CancellationToken.None);

        Assert.True(result.Ok, result.Message);
        Assert.Contains("nothing to roll back: install never-ran never began on this node", result.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    [Fact]
    public async Task RollbackHandler_UnknownStepInAFullJournal_RefusesToGuessAndChangesNothing()
    {
        var root = pki.CopyNode("worker-1");
        using var agent = new AgentUnderTest(root);
        var journal = new StepJournal(agent.StateDirectory);
        for (var i = 0; i < 500; i++)
        {
            journal.Record(new JournalEntry { StepId = $"old-{i}", Kind = "restart", Ok = true });
        }
        var before = FolderSnapshot.Take(root);

        var result = await agent.Get<RollbackHandler>().HandleAsync(
            new RollbackRequest { StepId = "rb", InstallStepId = "forgotten" }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains("no install step forgotten with a backup in the journal", result.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    [Fact]
    public async Task RollbackHandler_InstallThatChangedNoFile_SucceedsWithNothingToRestore()
    {
        var root = pki.CopyNode("worker-1");
        using var agent = new AgentUnderTest(root);
        // a master's certificate sent to a worker: refused before any backup or write
        var failed = agent.Get<InstallHandler>().Handle(Install("install-elsewhere", (pki.NodeRoot("master-1"), "apiserver.crt")));
        var before = FolderSnapshot.Take(root);

        var result = await agent.Get<RollbackHandler>().HandleAsync(
            new RollbackRequest { StepId = "rb-nothing", InstallStepId = "install-elsewhere", Units = { "kubelet.service" } }, CancellationToken.None);

        Assert.False(failed.Ok);
        Assert.True(result.Ok, result.Message);
        Assert.Contains("nothing to roll back: install install-elsewhere changed no file", result.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    private static InstallRequest Install(string stepId, params (string Root, string File)[] certificates)
    {
        var request = new InstallRequest { RolloutId = "r1", StepId = stepId };
        foreach (var (root, file) in certificates)
        {
            var old = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki", file));
            request.Replacements.Add(new Replacement
            {
                OldFingerprint = old.Sha256Fingerprint,
                CertificateDer = ByteString.CopyFrom(AgentUnderTest.Renew(root, file).Der),
            });
        }
        return request;
    }

    /// <summary>Same subject and key as <paramref name="certificate"/>, but issued by a CA the node does not have.</summary>
    private static byte[] SignedByForeignCa(CertificateInfo certificate)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=foreign-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        // one "now" for both: the leaf read the clock again and, a second later, outlived its CA (refused by Create)
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        using var original = X509CertificateLoader.LoadCertificate(certificate.Der);
        var request = new CertificateRequest(original.SubjectName, original.PublicKey, HashAlgorithmName.SHA256);
        using var issued = request.Create(ca, now.AddDays(-1), now.AddYears(1), [1, 2, 3, 4, 5, 6, 7, 8]);
        return issued.RawData;
    }
}
