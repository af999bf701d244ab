using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Rekey;

/// <summary>A file the split creates: a byte-for-byte copy of <see cref="SourcePath"/>, with its owner and mode (a key stays 0600).</summary>
public sealed record SplitCopy(string SourcePath, string Path, byte[] Content);

/// <summary>
/// One physical line of a unit file, drop-in or EnvironmentFile that changes from <see cref="OldText"/> to
/// <see cref="NewText"/> (<see cref="Line"/> is 1-based): only the values after <see cref="Setting"/> (one setting, or
/// several joined by ", " when they share the line) differ.
/// </summary>
public sealed record UnitLineEdit(string File, int Line, string Setting, string OldText, string NewText)
{
    /// <summary><paramref name="text"/> with the line changed; refused when the line is no longer <see cref="OldText"/>.</summary>
    public string ApplyTo(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        var index = Line - 1;
        if (index >= lines.Length || lines[index].TrimEnd('\r') != OldText)
        {
            throw new PkiException($"{File}: line {Line} is no longer '{OldText}'; the file changed since it was read, nothing was written, plan again");
        }
        lines[index] = lines[index].EndsWith('\r') ? NewText + "\r" : NewText;
        return string.Join('\n', lines);
    }
}

/// <summary>
/// How to split the files that both sign and trust before a re-key's trust phase: copies for the signing side, the
/// unit lines to point at them, and the units to reload and restart. Empty when nothing needs splitting.
/// </summary>
public sealed record SigningSplitPlan(IReadOnlyList<SplitCopy> Copies, IReadOnlyList<UnitLineEdit> Edits, IReadOnlyList<string> UnitsToRestart)
{
    public bool IsEmpty => Copies.Count == 0 && Edits.Count == 0;
}

/// <summary>
/// Plans the split of a CA file that a unit names both as a CA to trust and as its signing certificate
/// (make-cluster-pki's and kubeadm's ca.crt: --client-ca-file and --cluster-signing-cert-file). Trust needs
/// "old + new" there, signing exactly one certificate matching its key (kubernetes/kubeadm#1350), so the signing
/// flags get their own copies beside the originals (ca.crt → ca-signing.crt, ca.key → ca-signing.key, same bytes)
/// and the trust phase bundles ca.crt alone; the issue phase then switches the signing pair and leaves ca.key with
/// the old CA it matches. Pure: reads the node, writes nothing. The flag must appear literally ("--flag=path" or
/// "--flag path") exactly once in the unit's files; a variable, a second copy or a flag set in a way this cannot
/// see is refused with what to change by hand. Every edit is checked by parsing the unit again with it.
/// </summary>
public static class SigningSplit
{
    private static readonly string[] UnitFolders = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];
    private const long MaxFileBytes = 1 << 20;
    private const string Suffix = "-signing";

    public static SigningSplitPlan Plan(NodeInventory inventory, NodeTrustAnchors found)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(found);
        var root = inventory.Root;
        var copies = new List<SplitCopy>();
        var edits = new List<UnitLineEdit>();
        var restarts = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in found.SignsAndTrusts)
        {
            var signing = found.Signing.Single(a => a.Path == path);
            if (signing.Units.Count == 0)
            {
                continue; // signing only by having its key beside it: the bundle keeps the old CA first, matching that key
            }
            var keyPath = signing.KeyPath ?? throw new PkiException(
                $"{path}: signs for {string.Join(", ", signing.Units)} but its key was not found; put the CA key beside it or sign elsewhere");
            var moves = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [root.Resolve(path)] = SplitName(path),
                [root.Resolve(keyPath)] = SplitName(keyPath),
            };
            AddCopy(root, path, copies);
            AddCopy(root, keyPath, copies);
            foreach (var unit in inventory.Units.Where(u => signing.Units.Contains(u.Name)))
            {
                var unitEdits = PlanUnit(root, unit, moves);
                edits.AddRange(unitEdits);
                if (unitEdits.Count > 0)
                {
                    restarts.Add(unit.Name);
                }
            }
        }
        return new SigningSplitPlan(copies, edits, RestartOrder.Sort(restarts));
    }

    /// <summary>ca.crt → ca-signing.crt beside it.</summary>
    public static string SplitName(string nodePath)
    {
        var folder = System.IO.Path.GetDirectoryName(nodePath) ?? "/";
        var name = System.IO.Path.GetFileNameWithoutExtension(nodePath) + Suffix + System.IO.Path.GetExtension(nodePath);
        return NodePath.Combine(folder, name);
    }

    private static void AddCopy(NodeRoot root, string source, List<SplitCopy> copies)
    {
        var content = root.ReadAllBytes(source, MaxFileBytes)
            ?? throw new PkiException($"{source}: could not be read; nothing was planned, scan the node again");
        var target = SplitName(source);
        if (root.ReadAllBytes(target, MaxFileBytes) is { } existing)
        {
            if (existing.AsSpan().SequenceEqual(content))
            {
                return; // an earlier split got this far
            }
            throw new PkiException($"{target}: already exists with other content; the signing copy of {source} goes there, " +
                "so move it away first; nothing was planned");
        }
        copies.Add(new SplitCopy(source, target, content));
    }

    /// <summary>The edits that point <paramref name="unit"/>'s signing settings at the copies, checked by parsing the unit again.</summary>
    private static List<UnitLineEdit> PlanUnit(NodeRoot root, SystemdUnit unit, Dictionary<string, string> moves)
    {
        var settings = unit.FileReferences
            .Where(r => r.Source is null && IsSigningSetting(r.Setting) && TryResolve(root, r.Path) is { } host && moves.ContainsKey(host))
            .DistinctBy(r => r.Setting)
            .ToList();
        var files = UnitFiles(root, unit);
        var working = files.ToDictionary(f => f.Path, f => f.Text, StringComparer.Ordinal);
        var edits = new List<UnitLineEdit>();
        foreach (var reference in settings)
        {
            var newPath = moves[root.Resolve(reference.Path)];
            var hits = files.SelectMany(f => Occurrences(f.Path, working[f.Path], reference.Setting, reference.Path, newPath)).ToList();
            if (hits.Count != 1)
            {
                throw new PkiException($"{unit.Name}: {reference.Setting}={reference.Path} appears {(hits.Count == 0 ? "in no line CertFleet can edit (a variable, or a file it did not read)" : $"{hits.Count} times")}; " +
                    $"copy {reference.Path} to {newPath} and change {reference.Setting} to {newPath} by hand, then plan again; nothing was planned");
            }
            var hit = hits[0];
            working[hit.File] = hit.ApplyTo(working[hit.File]);
            // two settings on one line (an EnvironmentFile's single variable) make one edit from the line as read
            var earlier = edits.FindIndex(e => e.File == hit.File && e.Line == hit.Line);
            if (earlier >= 0)
            {
                edits[earlier] = edits[earlier] with { Setting = $"{edits[earlier].Setting}, {hit.Setting}", NewText = hit.NewText };
            }
            else
            {
                edits.Add(hit);
            }
        }
        Check(root, unit, files, edits, moves);
        return edits;
    }

    private static bool IsSigningSetting(string setting)
    {
        var parts = setting.ToLowerInvariant().Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Contains("cluster") && parts.Contains("signing");
    }

    private static IEnumerable<UnitLineEdit> Occurrences(string file, string text, string setting, string oldPath, string newPath)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.TrimStart().StartsWith('#') || line.TrimStart().StartsWith(';'))
            {
                continue;
            }
            foreach (var separator in new[] { "=", " " })
            {
                var token = setting + separator + oldPath;
                for (var at = line.IndexOf(token, StringComparison.Ordinal); at >= 0; at = line.IndexOf(token, at + 1, StringComparison.Ordinal))
                {
                    var end = at + token.Length;
                    if ((at == 0 || IsBoundary(line[at - 1])) && (end == line.Length || IsBoundary(line[end])))
                    {
                        yield return new UnitLineEdit(file, i + 1, setting, line, line[..at] + setting + separator + newPath + line[end..]);
                    }
                }
            }
        }
    }

    private static bool IsBoundary(char c) => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\';

    private sealed record UnitText(string Path, string Text, bool IsEnvironmentFile);

    /// <summary>The unit file systemd uses, its drop-ins and its EnvironmentFiles, as UnitCatalog reads them.</summary>
    private static List<UnitText> UnitFiles(NodeRoot root, SystemdUnit unit)
    {
        var main = UnitFolders.Select(f => $"{f}/{unit.Name}").FirstOrDefault(p => Read(root, p) is not null)
            ?? throw new PkiException($"{unit.Name}: its unit file is gone; scan the node again");
        var files = new List<UnitText> { new(main, Read(root, main)!, false) };
        files.AddRange(UnitFolders
            .SelectMany(folder => root.EnumerateFiles($"{folder}/{unit.Name}.d", recursive: false))
            .Where(p => p.EndsWith(".conf", StringComparison.Ordinal))
            .OrderBy(System.IO.Path.GetFileName, StringComparer.Ordinal)
            .Select(p => new UnitText(p, Read(root, p) ?? "", false)));
        files.AddRange(unit.EnvironmentFiles
            .Select(e => Read(root, e.Path) is { } text ? new UnitText(e.Path, text, true) : null)
            .OfType<UnitText>());
        return files;
    }

    // the unit read again with the edits: the signing settings name the copies, and every other file it names is unchanged
    private static void Check(NodeRoot root, SystemdUnit unit, List<UnitText> files, List<UnitLineEdit> edits, Dictionary<string, string> moves)
    {
        var edited = files.ToDictionary(f => f.Path, f => edits.Where(e => e.File == f.Path).Aggregate(f.Text, (text, e) => e.ApplyTo(text)), StringComparer.Ordinal);
        var unitFiles = files.Where(f => !f.IsEnvironmentFile).ToList();
        var again = SystemdUnit.Parse(unit.Name, edited[unitFiles[0].Path], unitFiles.Skip(1).Select(f => edited[f.Path]).ToList(),
            path => edited.TryGetValue(path, out var text) ? text : Read(root, path));
        var before = unit.FileReferences.Where(r => r.Source is null).Select(r => Expected(root, r, moves)).Order(StringComparer.Ordinal);
        var after = again.FileReferences.Where(r => r.Source is null).Select(r => $"{r.Setting}={r.Path}").Order(StringComparer.Ordinal);
        if (!before.SequenceEqual(after, StringComparer.Ordinal))
        {
            throw new PkiException($"{unit.Name}: pointing its signing settings at the copies would change more than those settings; " +
                "change them by hand; nothing was planned");
        }
    }

    private static string Expected(NodeRoot root, UnitFileReference reference, Dictionary<string, string> moves) =>
        IsSigningSetting(reference.Setting) && TryResolve(root, reference.Path) is { } host && moves.TryGetValue(host, out var moved)
            ? $"{reference.Setting}={moved}"
            : $"{reference.Setting}={reference.Path}";

    // a setting naming a path outside the scan's reach is not one of the signing files being split
    private static string? TryResolve(NodeRoot root, string nodePath)
    {
        try
        {
            return root.Resolve(nodePath);
        }
        catch (PkiException)
        {
            return null;
        }
    }

    private static string? Read(NodeRoot root, string nodePath) =>
        root.ReadAllBytes(nodePath, MaxFileBytes) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;
}
