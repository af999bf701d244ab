using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// What must hold on the loopback fleet after a completed CA re-key (docs/CA-REKEY.md), with openssl as the oracle for
/// every chain: each leaf re-issued under its new CA and no longer under the original, each place that trusted an
/// original CA holding its successor alone, no original CA left anywhere, every leaf's key unchanged, and etcd
/// refusing a client of the original CA. Backups (/var/lib/certfleet) are left out. Failures name node and file.
/// </summary>
internal static class RekeyEndState
{
    /// <summary>A kubelet's self-signed serving certificate: no cluster CA signs it, so no re-key touches it.</summary>
    private const string KubeletServing = "/var/lib/kubelet/pki/kubelet.crt";

    private static readonly string[] Nodes = [.. LoopbackFleet.Masters, .. LoopbackFleet.Workers];

    public static void AssertCompleted(LoopbackFleet fleet)
    {
        var authorities = RekeyedAuthority.ReadAll(fleet);
        // one openssl verify a leaf against both originals: it must chain to neither
        var originals = Path.Combine(fleet.Directory, "original-cas.pem");
        File.WriteAllText(originals, string.Concat(authorities.Select(a => File.ReadAllText(a.OldFile) + "\n")));
        foreach (var node in Nodes)
        {
            var before = HeldCertificate.Walk(node, fleet.Original(node));
            var after = HeldCertificate.Walk(node, fleet.NodeRoot(node));
            AssertLeavesUnderNewCasOnly(authorities, originals, before, after);
            AssertTrustedCasReplaced(authorities, before, after);
            AssertNoOriginalCa(authorities, after);
            AssertKeysKept(fleet, node, authorities);
        }
        EtcdClients.AssertOriginalRefusedCurrentAccepted(fleet);
    }

    private static bool IsLeaf(HeldCertificate c) => !c.IsCa && c.Found.Path != KubeletServing;

    private static void AssertLeavesUnderNewCasOnly(IReadOnlyList<RekeyedAuthority> authorities, string originals, List<HeldCertificate> before,
        List<HeldCertificate> after)
    {
        var leaves = after.Where(IsLeaf).ToList();
        foreach (var old in before.Where(IsLeaf))
        {
            Assert.True(leaves.Any(l => l.Location == old.Location), $"{old.Where} held a leaf certificate before the re-key and holds none now");
        }
        foreach (var leaf in leaves)
        {
            // the CA it belongs to: the one that signed the leaf at this place before, else the one its AKI names
            var original = before.FirstOrDefault(b => b.Location == leaf.Location && IsLeaf(b));
            var authority = authorities.FirstOrDefault(a => original is not null
                ? original.AuthorityKeyId == HeldCertificate.SubjectKeyId(a.Old)
                : leaf.AuthorityKeyId == HeldCertificate.SubjectKeyId(a.New));
            Assert.True(authority is not null, $"{leaf} is a leaf of no re-keyed CA (authority key id {leaf.AuthorityKeyId})");
            var verified = Verify(authority.NewFile, leaf);
            Assert.True(verified.ExitCode == 0, $"{leaf} does not verify against the new {authority.Name} CA: {verified.Combined.Trim()}");
            var old = Verify(originals, leaf);
            Assert.True(old.ExitCode != 0, $"{leaf} still verifies against an original CA ({string.Join(", ", authorities.Select(a => a.Name))})");
        }
    }

    private static ProcessResult Verify(string caFile, HeldCertificate leaf) =>
        ProcessRunner.Run("openssl", ["verify", "-CAfile", caFile], standardInput: leaf.Found.Pem);

    /// <summary>Each file or kubeconfig field that held an original CA holds that CA's successor, and nothing else.</summary>
    private static void AssertTrustedCasReplaced(IReadOnlyList<RekeyedAuthority> authorities, List<HeldCertificate> before, List<HeldCertificate> after)
    {
        foreach (var anchor in before)
        {
            if (authorities.FirstOrDefault(a => RekeyedAuthority.SamePublicKey(a.Old, anchor.Certificate)) is not { } authority)
            {
                continue;
            }
            var now = after.Where(c => c.Location == anchor.Location).ToList();
            Assert.True(now.Count == 1 && now[0].Certificate.RawData.AsSpan().SequenceEqual(authority.New.RawData),
                $"{anchor.Where} held the original {authority.Name} CA; it now holds {now.Count} certificate(s) where the new {authority.Name} CA alone "
                + $"(key id {HeldCertificate.SubjectKeyId(authority.New)?[..8]}) was expected:\n  {string.Join("\n  ", now)}");
        }
    }

    private static void AssertNoOriginalCa(IReadOnlyList<RekeyedAuthority> authorities, List<HeldCertificate> after)
    {
        var left = after.Where(c => authorities.Any(a => RekeyedAuthority.SamePublicKey(a.Old, c.Certificate))).ToList();
        Assert.True(left.Count == 0, $"the original CA key is still in {left.Count} certificate(s) after retire:\n  {string.Join("\n  ", left)}");
    }

    /// <summary>Leaves keep their keys; the masters' CA keys are the new CAs' keys; a key file that appeared holds one of those.</summary>
    private static void AssertKeysKept(LoopbackFleet fleet, string node, IReadOnlyList<RekeyedAuthority> authorities)
    {
        var before = NodeKeyFiles.Read(fleet.Original(node));
        var after = NodeKeyFiles.Read(fleet.NodeRoot(node));
        foreach (var (path, original) in before)
        {
            Assert.True(after.TryGetValue(path, out var now), $"{node}:{path} is gone");
            var authority = LoopbackFleet.Masters.Contains(node)
                ? authorities.FirstOrDefault(a => path == $"{RekeyedAuthority.Pki}/{a.Name}.key")
                : null;
            if (authority is null)
            {
                Assert.True(original.AsSpan().SequenceEqual(now), $"{node}:{path} changed: a leaf keeps its key through a re-key");
                continue;
            }
            Assert.False(original.AsSpan().SequenceEqual(now), $"{node}:{path} is still the original {authority.Name} key");
            AssertIsKeyOf(node, path, fleet.NodeRoot(node) + path, authority);
        }
        foreach (var path in after.Keys.Except(before.Keys))
        {
            var file = fleet.NodeRoot(node) + path;
            var authority = File.Exists(file) ? authorities.FirstOrDefault(a => PublicKeyOf(file) == a.NewPublicKeyPem()) : null;
            Assert.True(authority is not null, $"{node}:{path} is a private key that was not there before the re-key, and no new CA's");
        }
    }

    private static void AssertIsKeyOf(string node, string path, string file, RekeyedAuthority authority) =>
        Assert.True(PublicKeyOf(file) == authority.NewPublicKeyPem(),
            $"{node}:{path} is not the key of the new {authority.Name} CA in master-1:{RekeyedAuthority.Pki}/{authority.Name}.crt");

    private static string PublicKeyOf(string keyFile) => ProcessRunner.Run("openssl", ["pkey", "-in", keyFile, "-pubout"]).StandardOutput;
}
