using System.Security.Cryptography;

namespace CertFleet.Testing;

/// <summary>
/// Every file under a folder with its content hash and mode, and every symlink with its target text (never followed:
/// an absolute target is a path on the node, not on this machine): "nothing changed" made checkable.
/// </summary>
public sealed record FolderSnapshot(IReadOnlyDictionary<string, string> Files)
{
    public static FolderSnapshot Take(string root, string? excludeUnder = null)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, path);
            if (excludeUnder is not null && relative.StartsWith(excludeUnder, StringComparison.Ordinal))
            {
                continue;
            }
            if (new FileInfo(path).LinkTarget is { } target)
            {
                files[relative] = $"-> {target}";
                continue;
            }
            var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
            files[relative] = $"{hash} {File.GetUnixFileMode(path)}";
        }
        return new FolderSnapshot(files);
    }

    /// <summary>Relative paths whose content or mode differ, or that exist on one side only.</summary>
    public IReadOnlyList<string> Differences(FolderSnapshot other) =>
        Files.Keys.Union(other.Files.Keys)
            .Where(k => Files.GetValueOrDefault(k) != other.Files.GetValueOrDefault(k))
            .Order(StringComparer.Ordinal)
            .ToList();
}
