using System.Text;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;

namespace CertFleet.Pki.Rekey;

/// <summary>
/// What applying a <see cref="SigningSplitPlan"/> changed, and what the caller runs next: <c>systemctl daemon-reload</c>
/// when <see cref="DaemonReload"/> (a unit file or drop-in changed), then a restart of <see cref="Install"/>'s
/// <see cref="InstallResult.UnitsToRestart"/>.
/// </summary>
public sealed record SigningSplitResult(InstallResult Install, bool DaemonReload)
{
    public static readonly SigningSplitResult Nothing = new(InstallResult.Nothing, false);
}

/// <summary>
/// Applies a <see cref="SigningSplitPlan"/> on a node in one install with a renewal's guarantees
/// (<see cref="FileSetInstall"/>): the signing copies are recorded in the backup as new files, the unit, drop-in and
/// EnvironmentFile texts are saved, every temporary is written before any rename, and the copies are renamed into
/// place before the lines that name them, so at every moment each unit names files that exist. A crash leaves each
/// file whole and a backup whose <see cref="BackupSet.RestoreAll"/> puts the lines back and removes the copies.
/// Copies get their source's owner and mode, a private key never wider than 0600; a line or a source that changed
/// since the plan is refused with nothing written. Nothing is restarted here: the agent reloads and restarts.
/// </summary>
public sealed class SigningSplitInstaller(TimeProvider time)
{
    /// <summary>The fault point after the backup is complete and before any temporary is written.</summary>
    public const string AfterBackup = "split:after-backup";

    /// <summary>The fault point after each file (a copy or an edited unit text) is renamed into place.</summary>
    public const string AfterFile = "split:after-file";

    private const string Stage = "split";
    private const long MaxFileBytes = 1 << 20;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly string[] UnitFolders = ["/etc/systemd/", "/usr/lib/systemd/", "/lib/systemd/", "/run/systemd/"];

    public SigningSplitResult Apply(NodeInventory inventory, SigningSplitPlan plan, IInstallObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.IsEmpty)
        {
            return SigningSplitResult.Nothing;
        }
        var root = inventory.Root;
        var changes = new List<IFileChange>();
        // copies first: FileSetInstall renames in this order, so no unit line names a copy that is not there yet
        changes.AddRange(plan.Copies.Select(c => NewCopy(root, c)));
        changes.AddRange(plan.Edits.GroupBy(e => e.File, StringComparer.Ordinal).Select(file => EditedText(root, file.Key, file)));
        var (changed, backupDirectory) = FileSetInstall.Run(root, changes, time.GetUtcNow(), Stage, observer);
        var reload = plan.Edits.Any(e => UnitFolders.Any(f => e.File.StartsWith(f, StringComparison.Ordinal)));
        return new SigningSplitResult(new InstallResult(changed, backupDirectory, plan.UnitsToRestart), reload);
    }

    private static SplitCopyChange NewCopy(NodeRoot root, SplitCopy copy)
    {
        var sourceHost = root.Resolve(copy.SourcePath);
        var source = root.Stat(sourceHost, copy.SourcePath, followSymlinks: true) is { Kind: FileKind.Regular } status
            ? status
            : throw new PkiException($"{copy.SourcePath}: is gone or no longer a regular file since the split was planned; nothing was written, plan again");
        var current = root.ReadAllBytes(copy.SourcePath, MaxFileBytes);
        if (current is null || !current.AsSpan().SequenceEqual(copy.Content))
        {
            throw new PkiException($"{copy.SourcePath}: changed since the split was planned; nothing was written, plan again");
        }
        var mode = IsPrivateKey(copy.Content) ? source.Permissions & OwnerReadWrite : source.Permissions;
        var host = root.ResolveNoFollow(copy.Path);
        return new SplitCopyChange(root.ToNodePath(host), host, copy.Content, source with { Permissions = mode });
    }

    private static FileReplacement EditedText(NodeRoot root, string nodePath, IEnumerable<UnitLineEdit> edits)
    {
        var host = root.Resolve(nodePath);
        var bytes = root.ReadAllBytes(nodePath, MaxFileBytes)
            ?? throw new PkiException($"{nodePath}: is gone since the split was planned; nothing was written, plan again");
        var text = Encoding.UTF8.GetString(bytes);
        if (!Encoding.UTF8.GetBytes(text).AsSpan().SequenceEqual(bytes))
        {
            // decoding would replace the bytes it cannot read, changing lines the split must leave alone
            throw new PkiException($"{nodePath}: is not valid UTF-8, so its lines cannot be edited without changing others; make the edits by hand");
        }
        var edited = edits.Aggregate(text, (current, edit) => edit.ApplyTo(current));
        return new FileReplacement(root.ToNodePath(host), host, Encoding.UTF8.GetBytes(edited));
    }

    // any PEM private key (PKCS#8, PKCS#1, SEC1, encrypted): its copy is for the owner alone
    private static bool IsPrivateKey(byte[] content) =>
        Encoding.ASCII.GetString(content).Contains("PRIVATE KEY-----", StringComparison.Ordinal);

    /// <summary>A file the split creates: recorded in the backup before it exists, so a rollback deletes it.</summary>
    private sealed record SplitCopyChange(string NodePath, string HostPath, byte[] Content, FileStatus Template) : IFileChange
    {
        public IEnumerable<string> ChangedFiles => [NodePath];

        public string FolderHost => Path.GetDirectoryName(HostPath)!;

        public void Backup(BackupSet backup) => backup.RecordNewFile(NodePath, Content);

        public void Prepare(List<PreparedFile> prepared) => prepared.Add(AtomicFile.PrepareNew(HostPath, Content, Template));
    }
}
