using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Renewal;

namespace CertFleet.Pki.Rekey;

/// <summary>One phase's work on a node, for every CA of the re-key at once.</summary>
public enum RekeyStage
{
    /// <summary>Every place that trusts an old CA gets old + new (split the signing copies off first: <see cref="RekeyInstaller.Split"/>).</summary>
    Trust,

    /// <summary>The files kube-controller-manager signs with get the new CA and its key.</summary>
    SwitchSigning,

    /// <summary>The old CA leaves every trust file; a CA file with the old key beside it gets the new key.</summary>
    Retire,
}

/// <summary>An old CA, its successor and, where the node may hold it, the successor's key (PKCS#8 PEM).</summary>
public sealed record RekeyPair(CertificateInfo Old, CertificateInfo New, string? NewKeyPem);

/// <summary>What a stage would do on a node: the files it writes, the units that use them, and what it cannot rotate.</summary>
public sealed record RekeyNodePreview(
    IReadOnlyList<string> Files, IReadOnlyList<string> Units, IReadOnlyList<RekeyProblem> Problems, IReadOnlyList<string> SigningFiles, bool HoldsOldKey)
{
    /// <summary>The places that trust an old CA (files, and kubeconfigs for their certificate-authority-data).</summary>
    public IReadOnlyList<string> TrustFiles { get; init; } = [];
}

/// <summary>
/// A re-key's file work on one node (docs/CA-REKEY.md), every CA of the re-key in one install with a renewal's guarantees
/// (<see cref="FileSetInstall"/>: backup first, every temporary before any rename, a crash leaves each file whole and a
/// backup that restores the node). Each stage is idempotent: run again on a node where it is done, it writes nothing.
/// Nothing is restarted here; the agent restarts the units of <see cref="InstallResult.UnitsToRestart"/>.
/// </summary>
public sealed class RekeyInstaller(TimeProvider time)
{
    /// <summary>The fault point after the backup is complete and before any temporary is written.</summary>
    public const string AfterBackup = "rekey:after-backup";

    /// <summary>The fault point after each file is renamed into place.</summary>
    public const string AfterFile = "rekey:after-file";

    private const string Stage = "rekey";

    /// <summary>
    /// The split of every file that both trusts an old CA and is named by --cluster-signing-cert-file, as one plan
    /// (<see cref="SigningSplit"/>); applied before the trust stage, it leaves that file trust-only for the units.
    /// </summary>
    public static SigningSplitPlan SplitPlan(NodeInventory inventory, IReadOnlyList<RekeyPair> authorities)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        var plans = authorities.Select(a => SigningSplit.Plan(inventory, TrustAnchors.Find(inventory, a.Old))).ToList();
        return new SigningSplitPlan(
            plans.SelectMany(p => p.Copies).ToList(),
            plans.SelectMany(p => p.Edits).ToList(),
            RestartOrder.Sort(plans.SelectMany(p => p.UnitsToRestart)));
    }

    /// <summary>Applies <see cref="SplitPlan"/>; <see cref="SigningSplitResult.Nothing"/> when there is nothing (left) to split.</summary>
    public SigningSplitResult Split(NodeInventory inventory, IReadOnlyList<RekeyPair> authorities, IInstallObserver? observer = null) =>
        new SigningSplitInstaller(time).Apply(inventory, SplitPlan(inventory, authorities), observer);

    public InstallResult Apply(NodeInventory inventory, RekeyStage stage, IReadOnlyList<RekeyPair> authorities, IInstallObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var (changes, units) = Changes(inventory, stage, authorities);
        if (changes.Count == 0)
        {
            return InstallResult.Nothing;
        }
        var (changed, backupDirectory) = FileSetInstall.Run(inventory.Root, changes, time.GetUtcNow(), Stage, observer);
        return new InstallResult(changed, backupDirectory, RestartOrder.Sort(units));
    }

    /// <summary>What <paramref name="stage"/> would write here now, and for the trust stage the split before it; nothing is written.</summary>
    public static RekeyNodePreview Preview(NodeInventory inventory, RekeyStage stage, IReadOnlyList<RekeyPair> authorities)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(authorities);
        var found = authorities.Select(a => TrustAnchors.Find(inventory, a.Old)).ToList();
        var files = new List<string>();
        var units = new List<string>();
        var problems = found.SelectMany(f => f.Problems).ToList();
        if (stage == RekeyStage.Trust)
        {
            var split = SplitPlan(inventory, authorities);
            files.AddRange(split.Copies.Select(c => c.Path));
            files.AddRange(split.Edits.Select(e => e.File).Distinct(StringComparer.Ordinal));
            units.AddRange(split.UnitsToRestart);
            // what the trust stage writes after the split: every trusting place (the split makes ca.crt trust-only)
            files.AddRange(found.SelectMany(f => f.Trusting).Select(a => a.Path).Distinct(StringComparer.Ordinal)
                .Where(p => !files.Contains(p, StringComparer.Ordinal)));
            units.AddRange(found.SelectMany(f => f.Trusting).SelectMany(a => a.Units));
        }
        else
        {
            try
            {
                var (changes, stageUnits) = Changes(inventory, stage, authorities.Select(a => a with { NewKeyPem = a.NewKeyPem ?? "" }).ToList(), preview: true);
                files.AddRange(changes.SelectMany(c => c.ChangedFiles));
                units.AddRange(stageUnits);
            }
            catch (PkiException e)
            {
                problems.Add(new RekeyProblem("/", e.Message));
            }
        }
        // the signing pair as the issue phase will find it: after the trust phase's split, the copies
        var renamed = SplitPlan(inventory, authorities).Copies.ToDictionary(c => c.SourcePath, c => c.Path, StringComparer.Ordinal);
        var signing = found.SelectMany(f => NamedSigning(f)).SelectMany(a => a.KeyPath is null ? [a.Path] : new[] { a.Path, a.KeyPath })
            .Select(p => renamed.GetValueOrDefault(p, p)).Distinct(StringComparer.Ordinal).ToList();
        var holdsKey = found.Any(f => f.Signing.Any(a => a.KeyPath is not null));
        return new RekeyNodePreview(files.Distinct(StringComparer.Ordinal).ToList(), RestartOrder.Sort(units), problems, signing, holdsKey)
        {
            TrustFiles = found.SelectMany(f => f.Trusting).Select(a => a.Path).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>
    /// The units that use the places <paramref name="stage"/> writes, whether it is still to be done or done already
    /// (anchors of the old and of the new CA): a stage resumed after it was done still restarts them.
    /// </summary>
    public static IReadOnlyList<string> StageUnits(NodeInventory inventory, RekeyStage stage, IReadOnlyList<RekeyPair> authorities)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        var found = authorities.SelectMany(a => new[] { TrustAnchors.Find(inventory, a.Old), TrustAnchors.Find(inventory, a.New) }).ToList();
        var anchors = stage == RekeyStage.SwitchSigning ? found.SelectMany(NamedSigning) : found.SelectMany(f => f.Trusting);
        return RestartOrder.Sort(anchors.SelectMany(a => a.Units));
    }

    private static (List<IFileChange> Changes, List<string> Units) Changes(NodeInventory inventory, RekeyStage stage,
        IReadOnlyList<RekeyPair> authorities, bool preview = false)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        var anchors = new List<(TrustAnchor, Func<string, TrustAnchor, string, string>)>();
        var changes = new List<IFileChange>();
        var units = new List<string>();
        foreach (var authority in authorities)
        {
            var found = TrustAnchors.Find(inventory, authority.Old);
            switch (stage)
            {
                case RekeyStage.Trust:
                    TrustInstaller.EnsureNoSigningFile(found);
                    anchors.AddRange(found.Trusting.Select(a => (a, (Func<string, TrustAnchor, string, string>)((text, anchor, name) =>
                        TrustInstaller.TrustText(text, anchor, name, authority.Old, authority.New)))));
                    break;
                case RekeyStage.SwitchSigning:
                    foreach (var signing in NamedSigning(found))
                    {
                        changes.AddRange(SigningPair(inventory, found, signing, authority, preview));
                        units.AddRange(signing.Units);
                    }
                    break;
                case RekeyStage.Retire:
                    anchors.AddRange(found.Trusting.Select(a => (a, (Func<string, TrustAnchor, string, string>)((text, anchor, name) =>
                        TrustInstaller.RetireText(text, anchor, name, authority.Old)))));
                    changes.AddRange(KeysBeside(inventory, found, authority, preview));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(stage), stage, "not a re-key stage");
            }
        }
        var (texts, textUnits) = TrustInstaller.Changes(inventory, anchors);
        // one install: a crash between a CA file and the key beside it is rolled back from the backup by the agent's
        // recovery, so the pair never stays mismatched
        texts.AddRange(changes);
        textUnits.AddRange(units);
        return (texts, textUnits);
    }

    /// <summary>The places kube-controller-manager signs with (its --cluster-signing-*-cert-file), not a CA file that merely has its key beside it.</summary>
    private static IEnumerable<TrustAnchor> NamedSigning(NodeTrustAnchors found) =>
        found.Signing.Where(a => a.Units.Count > 0 || a.NamedBy.Any(n => !n.StartsWith("its key beside it", StringComparison.Ordinal)));

    /// <summary>The signing certificate and its key, both replaced by the new CA's: one certificate matching its key, as the controller manager needs.</summary>
    private static IEnumerable<IFileChange> SigningPair(NodeInventory inventory, NodeTrustAnchors found, TrustAnchor signing, RekeyPair authority, bool preview)
    {
        if (found.Trusting.Any(t => t.KubeconfigCluster is null && t.Path == signing.Path))
        {
            throw new PkiException($"{signing.Path}: is both trusted and named as a signing certificate; it must be split first (the trust phase does); nothing was written");
        }
        if (signing.KeyPath is null)
        {
            throw new PkiException($"{signing.Path}: {string.Join(", ", signing.NamedBy)} signs with '{authority.Old.Subject}' but its key was not found " +
                "beside it; put the CA key beside it, or switch the signing files by hand; nothing was written");
        }
        var key = preview ? "" : CheckedKey(authority);
        yield return Replacement(inventory, signing.Path, preview ? "" : authority.New.ToPem());
        yield return Replacement(inventory, signing.KeyPath, key);
    }

    /// <summary>A CA file with the old key beside it holds only the new CA after retire: its key becomes the new one in the same install.</summary>
    private static IEnumerable<IFileChange> KeysBeside(NodeInventory inventory, NodeTrustAnchors found, RekeyPair authority, bool preview)
    {
        foreach (var beside in found.Signing.Where(a => a.KeyPath is not null && !NamedSigning(found).Contains(a)))
        {
            if (authority.NewKeyPem is null)
            {
                throw new PkiException($"{beside.Path}: has the old CA key {beside.KeyPath} beside it, which would no longer match once the old CA " +
                    "leaves it, and the coordinator did not send the new key to this node; nothing was written");
            }
            if (!found.Trusting.Any(t => t.KubeconfigCluster is null && t.Path == beside.Path))
            {
                // a CA pair nothing names as trusted (a copy kept with its key) was not bundled: it becomes the new pair
                yield return Replacement(inventory, beside.Path, preview ? "" : authority.New.ToPem());
            }
            yield return Replacement(inventory, beside.KeyPath!, preview ? "" : CheckedKey(authority));
        }
    }

    private static string CheckedKey(RekeyPair authority)
    {
        var pem = authority.NewKeyPem ?? throw new PkiException($"no key for the new CA '{authority.New.Subject}' was sent; nothing was written");
        var block = Pem.Read(pem, "the new CA key").FirstOrDefault(b => PrivateKey.IsPrivateKeyLabel(b.Label))
            ?? throw new PkiException("the new CA key sent holds no PRIVATE KEY block; nothing was written");
        using var key = PrivateKey.Parse(block, "the new CA key");
        return key.Matches(authority.New) ? pem
            : throw new PkiException($"the key sent does not match the new CA '{authority.New.Subject}'; nothing was written");
    }

    private static FileReplacement Replacement(NodeInventory inventory, string nodePath, string text)
    {
        var host = inventory.Root.Resolve(nodePath);
        return new FileReplacement(inventory.Root.ToNodePath(host), host, Encoding.UTF8.GetBytes(text));
    }
}
