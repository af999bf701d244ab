using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Steps;
using CertFleet.Agent.Tests.Connection;
using CertFleet.Agent.Tests.Enrollment;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using CertFleet.Testing.Guides;
using Google.Protobuf;

namespace CertFleet.Agent.Tests.Steps;

/// <summary>
/// A real certfleet-agent process receives an install and dies by SIGKILL at one named point (CERTFLEET_FAULT_POINT);
/// started again without it, it finishes or undoes the install before it says Hello, and the same step sent again
/// ends installed. After each: every certificate/key pair matches and verifies, no temporary file is left. The same
/// runs for the /opt layout, where the kubelet's client certificate is installed as a new dated file and its
/// kubelet-client-current.pem link moved.
/// </summary>
public sealed class InstallCrashTests(EcClusterPkiFixture pki, OptLayout layout)
    : IClassFixture<EcClusterPkiFixture>, IClassFixture<OptLayout>
{
    private const string Address = "127.0.47.1";
    private const string Node = "master-1";
    private const string Backups = "var/lib/certfleet";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public enum Outcome
    {
        NothingInstalled,
        RolledBack,
        Committed,
        NoRecord,
    }

    [Theory]
    [InlineData(FaultPoints.AtomicWriteAfterTempWritten, Outcome.NoRecord)] // the first atomic write is the in-progress record itself
    [InlineData(FaultPoints.AtomicWriteAfterRename, Outcome.NothingInstalled)]
    [InlineData(InstallTransaction.AfterJournal, Outcome.NothingInstalled)]
    [InlineData("renew:backup-folder-made", Outcome.NothingInstalled)] // the folder exists, not yet recorded (found by the soak)
    [InlineData(FaultPoints.BackupAfterSave, Outcome.NothingInstalled)]
    [InlineData("renew:after-backup", Outcome.NothingInstalled)]
    [InlineData(InstallTransaction.AfterBackup, Outcome.NothingInstalled)]
    [InlineData(InstallTransaction.AfterTemporaries, Outcome.RolledBack)] // renames were about to start: undone from the backup
    [InlineData("renew:after-file", Outcome.RolledBack)]
    [InlineData(InstallTransaction.AfterRenamePrefix + "1", Outcome.RolledBack)]
    [InlineData(InstallTransaction.AfterRenamePrefix + "2", Outcome.RolledBack)]
    [InlineData(InstallTransaction.AfterRenamePrefix + "3", Outcome.RolledBack)]
    [InlineData(InstallTransaction.BeforeCommit, Outcome.Committed)]
    [InlineData(InstallTransaction.AfterCommit, Outcome.Committed)]
    public async Task Agent_KilledAtPointThenRestarted_NodeConsistentAndStepReportedThenFinished(string point, Outcome outcome)
    {
        var root = pki.CopyNode(Node);
        var request = Install($"step-{point}", root, "admin.crt", "apiserver.crt");
        var newAdmin = CertificateInfo.Parse(request.Replacements[0].CertificateDer.Span, "new admin");

        await KillAndRestartAsync(root, request, point, outcome,
            changed => Assert.Equal(["etc/kubernetes/admin.conf", "etc/kubernetes/pki/admin.crt", "etc/kubernetes/pki/apiserver.crt"], changed),
            () => Assert.Equal(newAdmin.SerialHex, Openssl.Serial(Path.Combine(root, "etc/kubernetes/pki/admin.crt")), ignoreCase: true));
    }

    // the renames of this install: 1 the new kubelet-client-<date>.pem, 2 the link moved to it, 3 server.pem
    [Theory]
    [InlineData(FaultPoints.AtomicWriteAfterTempWritten, Outcome.NoRecord)]
    [InlineData(FaultPoints.AtomicWriteAfterRename, Outcome.NothingInstalled)]
    [InlineData(InstallTransaction.AfterJournal, Outcome.NothingInstalled)]
    [InlineData(FaultPoints.BackupAfterSave, Outcome.NothingInstalled)] // the link, saved as a link
    [InlineData("renew:after-backup", Outcome.NothingInstalled)]
    [InlineData(InstallTransaction.AfterBackup, Outcome.NothingInstalled)]
    [InlineData(InstallTransaction.AfterTemporaries, Outcome.RolledBack)]
    [InlineData("renew:after-file", Outcome.RolledBack)] // the new dated file is in place, the link not yet moved
    [InlineData(InstallTransaction.AfterRenamePrefix + "1", Outcome.RolledBack)]
    [InlineData(InstallTransaction.AfterRenamePrefix + "2", Outcome.RolledBack)] // the link moved: moved back, the new file taken away
    [InlineData(InstallTransaction.AfterRenamePrefix + "3", Outcome.RolledBack)]
    [InlineData(InstallTransaction.BeforeCommit, Outcome.Committed)]
    [InlineData(InstallTransaction.AfterCommit, Outcome.Committed)]
    public async Task Agent_KilledDuringALinkInstallThenRestarted_LinkLeadsToAMatchingPairAndStepFinished(string point, Outcome outcome)
    {
        var root = layout.Copy("master");
        var oldTarget = ReadLink(root);
        var ssl = Path.Combine(root, OptLayout.CertificateDirectory.TrimStart('/'));
        var request = new InstallRequest { RolloutId = "crash", StepId = $"link-step-{point}" };
        var client = Renewal(request, Path.Combine(ssl, Path.GetFileName(oldTarget)), Path.Combine(ssl, Path.GetFileName(oldTarget)), ssl);
        Renewal(request, Path.Combine(ssl, "server.pem"), Path.Combine(ssl, "server-key.pem"), ssl);

        await KillAndRestartAsync(root, request, point, outcome,
            changed =>
            {
                var link = OptLayout.ClientLink.TrimStart('/');
                Assert.Equal(3, changed.Count);
                Assert.Equal(link, changed[1]);
                Assert.Matches(@"^opt/kubernetes/ssl/kubelet-client-\d{4}(-\d\d){5}\.pem$", changed[0]);
                Assert.Equal("/" + changed[0], ReadLink(root));
                Assert.Equal("opt/kubernetes/ssl/server.pem", changed[2]);
            },
            () =>
            {
                Assert.NotEqual(oldTarget, ReadLink(root));
                Assert.Equal(client.SerialHex, Openssl.Serial(Current(root)), ignoreCase: true);
            },
            rolledBack: () => Assert.Equal(oldTarget, ReadLink(root)),
            consistent: () =>
            {
                var pair = Current(root);
                Assert.True(Openssl.PublicKey(pair) == Openssl.Checked("pkey", "-in", pair, "-pubout"), $"{pair}: certificate and key differ");
            });
    }

    /// <summary>
    /// Enrolls the agent, has it die at <paramref name="point"/> during the install, restarts it, checks what it reports
    /// and what is on the node, then sends the step again and checks it ends installed.
    /// </summary>
    private async Task KillAndRestartAsync(string root, InstallRequest request, string point, Outcome outcome,
        Action<IReadOnlyList<string>> committedChanges, Action installed, Action? rolledBack = null, Action? consistent = null)
    {
        var enrolled = await Enrollment.Value;
        await using var coordinator = await FakeCoordinator.StartAsync(Address, groupCa: enrolled.FleetCa);
        var state = ScratchDirectory.Create("agent-crash");
        try
        {
            ProcessRunner.RunChecked("cp", "-a", enrolled.State + "/.", state);
            var before = FolderSnapshot.Take(root, excludeUnder: Backups);
            using (var crashing = AgentProcess.Start(Arguments(coordinator, root, state), point))
            {
                await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello, Limit);
                await coordinator.ToSend.Writer.WriteAsync(new CoordinatorMessage { CorrelationId = "install", Install = request });
                var exit = await crashing.WaitForExitAsync(Limit);
                Assert.True(exit == 137, $"the agent was to die by SIGKILL at {point}, exit {exit}:\n{crashing.Output}");
            }
            coordinator.DropStreams();

            using var restarted = AgentProcess.Start(Arguments(coordinator, root, state), faultPoint: null);
            var hello = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello, Limit);
            var reported = hello.Hello.RecentSteps.SingleOrDefault(s => s.StepId == request.StepId);
            Assert.False(File.Exists(Path.Combine(state, "install-in-progress.json")), restarted.Output);
            AssertConsistent(root);
            consistent?.Invoke();
            var changed = before.Differences(FolderSnapshot.Take(root, excludeUnder: Backups));
            switch (outcome)
            {
                case Outcome.NoRecord:
                    Assert.Null(reported);
                    Assert.Empty(changed);
                    break;
                case Outcome.NothingInstalled:
                    Assert.False(reported!.Ok);
                    Assert.Contains("nothing was installed", reported.Message);
                    Assert.Empty(changed);
                    Assert.Empty(BackupFolders(root)); // a backup of files that never changed is cleared away
                    break;
                case Outcome.RolledBack:
                    Assert.False(reported!.Ok);
                    Assert.Contains("rolled back", reported.Message);
                    Assert.Contains(reported.BackupDirectory, reported.Message);
                    Assert.Empty(changed);
                    Assert.Equal([reported.BackupDirectory], BackupFolders(root));
                    rolledBack?.Invoke();
                    break;
                case Outcome.Committed:
                    Assert.True(reported!.Ok, reported.Message);
                    committedChanges(changed);
                    break;
            }

            await coordinator.ToSend.Writer.WriteAsync(new CoordinatorMessage { CorrelationId = "again", Install = request });
            var again = await coordinator.NextAsync(AgentMessage.BodyOneofCase.StepResult, Limit);
            Assert.True(again.StepResult.Ok, again.StepResult.Message + "\n" + restarted.Output);
            installed();
            AssertConsistent(root);
            consistent?.Invoke();
            // every backup folder left on the node is named in what the coordinator was told (and so in its audit)
            Assert.All(BackupFolders(root), folder => Assert.Contains(folder, again.StepResult.Message));
        }
        finally
        {
            ScratchDirectory.Delete(state);
        }
    }

    /// <summary>
    /// An agent's state folder right after it enrolled (without a fault point: the identity files are atomic writes
    /// too), made once for the class with a fleet CA that every test's fake coordinator then uses: each test copies
    /// it instead of starting one more agent process to enroll (a third of the class's processes).
    /// </summary>
    private static readonly Lazy<Task<Enrolled>> Enrollment = new(EnrollAsync);

    private sealed record Enrolled(X509Certificate2 FleetCa, string State);

    private static async Task<Enrolled> EnrollAsync()
    {
        var fleetCa = TestCertificates.CreateCa("certfleet-fleet-ca");
        var root = ScratchDirectory.Create("agent-crash-enrolling");
        var state = ScratchDirectory.Create("agent-crash-enrolled");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            ScratchDirectory.Delete(root);
            ScratchDirectory.Delete(state);
        };
        await using var coordinator = await FakeCoordinator.StartAsync(Address, groupCa: fleetCa);
        var hash = "sha256:" + Convert.ToHexStringLower(CoordinatorTrust.SpkiHash(fleetCa));
        using var enrolling = AgentProcess.Start([.. Arguments(coordinator, root, state), "--token", FakeCoordinator.GoodToken, "--ca-hash", hash], faultPoint: null);
        await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello, Limit);
        return new Enrolled(fleetCa, state);
    }

    private static List<string> BackupFolders(string root)
    {
        var folder = Path.Combine(root, BackupSet.BackupsDirectoryOnNode.TrimStart('/'));
        return Directory.Exists(folder)
            ? [.. Directory.GetDirectories(folder).Select(d => $"{BackupSet.BackupsDirectoryOnNode}/{Path.GetFileName(d)}").Order(StringComparer.Ordinal)]
            : [];
    }

    private static string[] Arguments(FakeCoordinator coordinator, string root, string state) =>
    [
        "--coordinator", coordinator.Url.ToString(), "--node", Node, "--root", root, "--state-dir", state,
        "--restart-command", "true", "--health-command", "true",
    ];

    /// <summary>Every certificate/key pair matches, every certificate chains to its CA (openssl), no temporary anywhere.</summary>
    private static void AssertConsistent(string root)
    {
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories), f => AtomicFile.IsTemporary(Path.GetFileName(f)));
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        Assert.Empty(inventory.Errors);
        Assert.NotEmpty(inventory.Certificates);
        foreach (var entry in inventory.Certificates)
        {
            Assert.True(entry.KeyMatches != false, $"{entry.DisplayName}: certificate and key do not match");
            if (entry.IsCa)
            {
                continue;
            }
            Assert.True(entry.IssuerCertificate is not null, $"{entry.DisplayName}: no issuer found on the node");
            if (entry.Location.Field is null && entry.IssuerPath is { } issuer && !entry.IsInBundle)
            {
                var verified = Openssl.Verify(Path.Combine(root, issuer.TrimStart('/')), Path.Combine(root, entry.Path.TrimStart('/')));
                Assert.True(verified.ExitCode == 0, $"{entry.DisplayName}: {verified.Combined}");
            }
        }
    }

    /// <summary>Adds the renewal of a certificate file (signed by the layout's CA in <paramref name="ssl"/>) to the request.</summary>
    private static CertificateInfo Renewal(InstallRequest request, string certificateFile, string keyFile, string ssl)
    {
        var previous = AgentUnderTest.LoadCertificate(certificateFile);
        using var key = AgentUnderTest.LoadKey(keyFile);
        using var caKey = AgentUnderTest.LoadKey(Path.Combine(ssl, "ca-key.pem"));
        var renewed = new CertificateIssuer(TimeProvider.System).Renew(CertificateRequestBuilder.FromExistingCertificate(previous, key), previous,
            new CertificateAuthority(AgentUnderTest.LoadCertificate(Path.Combine(ssl, "ca.pem")), caKey), TimeSpan.FromDays(365));
        request.Replacements.Add(new Replacement { OldFingerprint = previous.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(renewed.Der) });
        return renewed;
    }

    private static string ReadLink(string root) =>
        ProcessRunner.RunChecked("readlink", Path.Combine(root, OptLayout.ClientLink.TrimStart('/'))).StandardOutput.TrimEnd('\n');

    /// <summary>The file the link leads to on the node (openssl on the host would follow the absolute link out of the root).</summary>
    private static string Current(string root) => Path.Combine(root, ReadLink(root).TrimStart('/'));

    private static InstallRequest Install(string stepId, string root, params string[] files)
    {
        var request = new InstallRequest { RolloutId = "crash", StepId = stepId };
        foreach (var file in files)
        {
            var old = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki", file));
            var renewed = AgentUnderTest.Renew(root, file);
            request.Replacements.Add(new Replacement { OldFingerprint = old.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(renewed.Der) });
        }
        return request;
    }
}
