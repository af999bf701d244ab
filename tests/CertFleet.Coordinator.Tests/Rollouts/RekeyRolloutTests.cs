using System.Text;
using CertFleet.Coordinator.Signing;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>
/// A CA re-key through the coordinator's own services, over copies of the fixture's nodes whose agents run the real
/// engine: the three phases complete, every leaf chains to the new CA with its key unchanged, the new keys stay in the
/// state folder and out of the database; a weaker key is refused with nothing made.
/// </summary>
public sealed class RekeyRolloutTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Rekey_WholeFleet_EveryLeafUnderTheNewCaWithItsKeyAndNoKeyInTheDatabase()
    {
        using var bed = FleetTestbed.Create(fixture);
        var oldCa = Openssl.PublicKey(Path.Combine(fixture.NodeRoot("master-1"), "etc/kubernetes/pki/ca.crt"));

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true, RekeyCa = new RekeyCa() }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.True(rollout.State == RolloutState.Completed, $"{rollout.State}: {rollout.HaltReason}");
        var newCa = bed.HostPath("master-1", "/etc/kubernetes/pki/ca.crt");
        Assert.NotEqual(oldCa, Openssl.PublicKey(newCa));
        foreach (var row in fixture.Manifest().Where(r => r.Subject != r.Issuer && r.Issuer.Contains("CN=kubernetes", StringComparison.Ordinal)
            && !r.Path.Contains("kubelet.crt", StringComparison.Ordinal)))
        {
            var leaf = bed.HostPath(row.Node, row.Path);
            var verify = Openssl.Verify(newCa, leaf);
            Assert.True(verify.ExitCode == 0, $"{row.Node}:{row.Path} under the new CA: {verify.Combined}");
            Assert.Equal(Openssl.PublicKey(Path.Combine(fixture.NodeRoot(row.Node), row.Path.TrimStart('/'))), Openssl.PublicKey(leaf));
        }
        Assert.Equal(1, File.ReadAllText(bed.HostPath("worker-1", "/etc/kubernetes/pki/ca.crt")).Split("BEGIN CERTIFICATE").Length - 1);

        var rekey = bed.Authorities.Rekeys(started.Id);
        Assert.Equal(2, rekey.Count);
        Assert.All(rekey, r => Assert.Equal(RekeyState.Retired, r.State));
        var keyFile = Path.Combine(AuthorityRekeyFiles.FolderOf(bed.Options.StateDirectory, rekey[0]), "new.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        var database = File.ReadAllBytes(Path.Combine(bed.Options.StateDirectory, "state.db"));
        Assert.DoesNotContain("PRIVATE KEY", Encoding.Latin1.GetString(database), StringComparison.Ordinal);
        var keyBody = File.ReadAllLines(keyFile)[1];
        Assert.DoesNotContain(keyBody, Encoding.Latin1.GetString(database), StringComparison.Ordinal);
        // the coordinator signs with the new CA from now on: it replaced the old one
        Assert.Contains(bed.Authorities.All, a => a.Certificate.Sha256Fingerprint == rekey[0].Successor.Certificate.Sha256Fingerprint);
    }

    [Fact]
    public async Task Rekey_SecondOneYearsLater_EveryLeafUnderTheNewestCaAndARestartedCoordinatorSignsWithIt()
    {
        using var bed = FleetTestbed.Create(fixture);
        var first = await bed.Admin.StartAsync(new RolloutRequest { All = true, RekeyCa = new RekeyCa() }, automatic: false, CancellationToken.None);
        await bed.RunAsync();
        var firstCa = Path.Combine(bed.Options.StateDirectory, "first-rekey-ca.crt"); // not on a node: trust and retire would rewrite it
        File.Copy(bed.HostPath("master-1", "/etc/kubernetes/pki/ca.crt"), firstCa);

        var second = await bed.Admin.StartAsync(new RolloutRequest { All = true, RekeyCa = new RekeyCa() }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(second.Id, CancellationToken.None);
        var steps = string.Join("\n", rollout.Steps.Select(s => $"{s.Kind} {s.Node} {s.Unit} {s.State}: {s.Message}"));
        Assert.True(rollout.State == RolloutState.Completed, $"{rollout.State}: {rollout.HaltReason}\n{steps}");
        var newest = bed.HostPath("master-1", "/etc/kubernetes/pki/ca.crt");
        Assert.True(Openssl.PublicKey(firstCa) != Openssl.PublicKey(newest), $"the second re-key left ca.crt as the first made it:\n{steps}");
        foreach (var row in fixture.Manifest().Where(r => r.Subject != r.Issuer && r.Issuer.Contains("CN=kubernetes", StringComparison.Ordinal)
            && !r.Path.Contains("kubelet.crt", StringComparison.Ordinal)))
        {
            var leaf = bed.HostPath(row.Node, row.Path);
            var verify = Openssl.Verify(newest, leaf);
            Assert.True(verify.ExitCode == 0, $"{row.Node}:{row.Path} under the second new CA: {verify.Combined}");
            Assert.True(Openssl.Verify(firstCa, leaf).ExitCode != 0, $"{row.Node}:{row.Path} still verifies against the first re-key's CA");
            Assert.Equal(Openssl.PublicKey(Path.Combine(fixture.NodeRoot(row.Node), row.Path.TrimStart('/'))), Openssl.PublicKey(leaf));
        }
        var rekeys = bed.Authorities.Rekeys(second.Id);
        Assert.All(rekeys, r => Assert.Equal(RekeyState.Retired, r.State));

        // a coordinator restarted with --ca-cert still naming the original files signs with the newest CAs, whichever
        // re-key's folder lists first (ids made in the same second sort by their random tail): both orders are tried
        var newestCas = rekeys.Select(r => r.Successor.Certificate.Sha256Fingerprint).Order(StringComparer.Ordinal).ToList();
        using (var inOrder = bed.Restart())
        {
            Assert.Equal(newestCas, inOrder.Authorities.All.Select(a => a.Certificate.Sha256Fingerprint).Order(StringComparer.Ordinal));
        }
        SwapFolders(AuthorityRekeyFiles.Folder(bed.Options.StateDirectory), first.Id, second.Id);
        using var restarted = bed.Restart();
        Assert.Equal(newestCas, restarted.Authorities.All.Select(a => a.Certificate.Sha256Fingerprint).Order(StringComparer.Ordinal));
        var renewal = await restarted.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await restarted.RunAsync();
        var renewed = await restarted.Admin.GetAsync(renewal.Id, CancellationToken.None);
        Assert.True(renewed.State == RolloutState.Completed, $"the renewal after two re-keys: {renewed.State}: {renewed.HaltReason}");
        var apiserver = bed.HostPath("master-1", "/etc/kubernetes/pki/apiserver.crt");
        Assert.True(Openssl.Verify(newest, apiserver).ExitCode == 0, "the renewed apiserver certificate chains to the newest CA");
    }

    private static void SwapFolders(string parent, string one, string other)
    {
        Directory.Move(Path.Combine(parent, one), Path.Combine(parent, "swap"));
        Directory.Move(Path.Combine(parent, other), Path.Combine(parent, one));
        Directory.Move(Path.Combine(parent, "swap"), Path.Combine(parent, other));
    }

    [Fact]
    public async Task Rekey_WeakerKeyType_RefusedAndNothingMade()
    {
        using var bed = FleetTestbed.Create(fixture);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => bed.Admin.StartAsync(
            new RolloutRequest { All = true, RekeyCa = new RekeyCa { KeyType = "rsa:2048" } }, automatic: false, CancellationToken.None));

        Assert.Contains("--allow-weaker", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(AuthorityRekeyFiles.Folder(bed.Options.StateDirectory)));
        Assert.Empty(await bed.Admin.ListAsync(CancellationToken.None) is { } list ? list.Rollouts : []);
    }
}
