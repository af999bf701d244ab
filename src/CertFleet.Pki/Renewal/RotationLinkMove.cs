using System.Globalization;
using CertFleet.Pki.Files;

namespace CertFleet.Pki.Renewal;

/// <summary>
/// An install the way the kubelet installs a rotated certificate, for a file CertFleet renews behind the kubelet's
/// kubelet-client-current.pem (or -server-) link: the new content goes to a new kubelet-client-&lt;UTC date&gt;.pem in
/// the link's folder (the old file's owner and mode), then the link is moved to it. The old dated file stays as it
/// is, as the kubelet keeps its old ones: at every moment the link leads to a complete file whose certificate
/// matches its key.
/// </summary>
internal sealed class RotationLinkMove
{
    private const string CurrentSuffix = "-current.pem";
    private const int MaxSecondsAhead = 3600; // a name taken for every second of an hour is no kubelet's doing

    private readonly string _newFileHost;
    private readonly string _linkHost;
    private readonly string _newTarget;
    private readonly FileStatus _oldFile;
    private readonly FileStatus _link;

    private RotationLinkMove(string folderHost, string linkNodePath, string newFileNodePath, string newFileHost, string linkHost,
        string newTarget, FileStatus oldFile, FileStatus link)
    {
        FolderHost = folderHost;
        LinkNodePath = linkNodePath;
        NewFileNodePath = newFileNodePath;
        _newFileHost = newFileHost;
        _linkHost = linkHost;
        _newTarget = newTarget;
        _oldFile = oldFile;
        _link = link;
    }

    /// <summary>The link's folder on the host, where the new file and both temporaries are written.</summary>
    public string FolderHost { get; }

    /// <summary>The link as on the node (its folders resolved, as every changed file is named).</summary>
    public string LinkNodePath { get; }

    public string NewFileNodePath { get; }

    /// <summary>Where the new file goes and what the link will say; checks the link still leads to the file that was read.</summary>
    public static RotationLinkMove Plan(NodeRoot root, FileEdit edit, DateTimeOffset now)
    {
        var link = edit.RotationLink ?? throw new ArgumentException("the edit has no rotation link", nameof(edit));
        var name = Path.GetFileName(link);
        if (!name.EndsWith(CurrentSuffix, StringComparison.Ordinal) || name.Length == CurrentSuffix.Length)
        {
            throw new PkiException($"{link}: not a kubelet -current.pem link; nothing was written");
        }
        // the link's folder as the kubelet names it (its --cert-dir): an absolute target is written with it, as the kubelet does
        var folderOnNode = Path.GetDirectoryName(link)!;
        var folderHost = root.Resolve(folderOnNode);
        var linkHost = Path.Combine(folderHost, name);
        var linkStatus = root.Stat(linkHost, link, followSymlinks: false);
        if (linkStatus is not { Kind: FileKind.Symlink } || root.Resolve(link) != edit.File.HostPath)
        {
            throw new PkiException($"{root.Describe(link)}: no longer leads to {edit.File.Path}; nothing was written, run the command again");
        }
        var oldTarget = new FileInfo(linkHost).LinkTarget
            ?? throw new PkiException($"{root.Describe(link)}: changed while certfleet was reading the node; nothing was written, run the command again");
        var oldFile = root.Stat(edit.File.HostPath, edit.File.Path, followSymlinks: false) ?? throw new PkiException(
            $"{edit.File.Path} changed while certfleet was reading the node; nothing was written, run the command again");

        var prefix = name[..^CurrentSuffix.Length];
        for (var second = 0; second < MaxSecondsAhead; second++)
        {
            var stamp = now.UtcDateTime.AddSeconds(second).ToString("yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture);
            var fileName = $"{prefix}-{stamp}.pem";
            var host = Path.Combine(folderHost, fileName);
            if (root.Stat(host, NodePath.Combine(folderOnNode, fileName), followSymlinks: false) is null)
            {
                var target = oldTarget.StartsWith('/') ? NodePath.Combine(folderOnNode, fileName) : fileName;
                return new RotationLinkMove(folderHost, root.ToNodePath(linkHost), root.ToNodePath(host), host, linkHost, target,
                    oldFile, linkStatus.Value);
            }
        }
        throw new PkiException($"{root.Describe(folderOnNode)}: a {prefix}-<date>.pem exists for every second of the next hour; remove old ones");
    }

    /// <summary>The link saved as a link, and the new file recorded before it exists, so a rollback can undo both.</summary>
    public void Backup(BackupSet backup, byte[] content)
    {
        backup.SaveLink(LinkNodePath);
        backup.RecordNewFile(NewFileNodePath, content);
    }

    /// <summary>The new file's temporary, then the link's: renamed in that order, the link moves only to a file in place.</summary>
    public void Prepare(List<PreparedFile> prepared, byte[] content)
    {
        prepared.Add(AtomicFile.PrepareNew(_newFileHost, content, _oldFile));
        prepared.Add(AtomicFile.PrepareSymlink(_linkHost, _newTarget, _link, withFaultPoints: true));
    }
}
