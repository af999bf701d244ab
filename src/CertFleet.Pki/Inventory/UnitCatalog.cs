using CertFleet.Pki.ComponentConfigs;
using CertFleet.Pki.Files;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Reads the node's systemd service units (with drop-ins) that could name certificate files, and the component
/// configs they name (--config, --config-file), whose files belong to the unit as much as its flags do.
/// </summary>
internal static class UnitCatalog
{
    // systemd's precedence: /etc overrides /usr/lib and /lib for a unit of the same name.
    private static readonly string[] UnitFolders = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

    // A distribution has hundreds of units; only these words make one worth parsing.
    private static readonly string[] RelevantWords = ["kube", "etcd", ".crt", ".pem", ".key", "cert", "tls", "EnvironmentFile"];

    private const long MaxUnitBytes = 1 << 20;

    public static IReadOnlyList<SystemdUnit> Load(NodeRoot root, ICollection<InventoryError> errors)
    {
        var units = new List<SystemdUnit>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in UnitFolders)
        {
            foreach (var path in root.EnumerateFiles(folder, recursive: false))
            {
                var name = System.IO.Path.GetFileName(path);
                if (!name.EndsWith(".service", StringComparison.Ordinal) || !seen.Add(name))
                {
                    continue;
                }
                try
                {
                    var text = ReadText(root, path);
                    if (text is null)
                    {
                        continue;
                    }
                    var dropIns = ReadDropIns(root, name);
                    if (!IsRelevant(text) && !dropIns.Any(IsRelevant))
                    {
                        continue;
                    }
                    var unit = SystemdUnit.Parse(name, text, dropIns, nodePath => ReadText(root, nodePath));
                    units.Add(unit.WithComponentConfigs(ReadComponentConfigs(root, unit, errors)));
                }
                catch (PkiException e)
                {
                    errors.Add(new InventoryError(path, e.Message));
                }
            }
        }
        units.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return units;
    }

    private static List<string> ReadDropIns(NodeRoot root, string unitName)
    {
        // Drop-ins apply in file-name order whichever folder they are in.
        return UnitFolders
            .SelectMany(folder => root.EnumerateFiles($"{folder}/{unitName}.d", recursive: false))
            .Where(path => path.EndsWith(".conf", StringComparison.Ordinal))
            .OrderBy(System.IO.Path.GetFileName, StringComparer.Ordinal)
            .Select(path => ReadText(root, path))
            .OfType<string>()
            .ToList();
    }

    private static List<ComponentConfig> ReadComponentConfigs(NodeRoot root, SystemdUnit unit, ICollection<InventoryError> errors)
    {
        var configs = new List<ComponentConfig>();
        foreach (var path in unit.ComponentConfigPaths)
        {
            try
            {
                // a missing file is the verifier's to report (the unit names it); here there is nothing to read
                if (ReadText(root, path) is { } text)
                {
                    configs.Add(ComponentConfig.Parse(text, path));
                }
            }
            catch (PkiException e)
            {
                errors.Add(new InventoryError(path, e.Message));
            }
        }
        return configs;
    }

    private static bool IsRelevant(string text) =>
        RelevantWords.Any(word => text.Contains(word, StringComparison.OrdinalIgnoreCase));

    private static string? ReadText(NodeRoot root, string nodePath)
    {
        var bytes = root.ReadAllBytes(nodePath, MaxUnitBytes);
        return bytes is null ? null : System.Text.Encoding.UTF8.GetString(bytes);
    }
}
