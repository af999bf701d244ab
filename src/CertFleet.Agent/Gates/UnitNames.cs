using CertFleet.Pki.Inventory;
using CertFleet.Pki.Systemd;

namespace CertFleet.Agent.Gates;

/// <summary>Unit names from the coordinator end up in shell commands, so only systemd's own name characters pass.</summary>
internal static class UnitNames
{
    public static bool IsValid(string unit) =>
        unit.Length is > 0 and <= 256 && unit.All(c => char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or ':' or '-' or '\\')
        && !unit.StartsWith('-');

    /// <summary>
    /// Why a coordinator may never have <paramref name="unit"/> restarted, or null. Only services restart: a target
    /// (poweroff.target, reboot.target), socket, mount, device, swap, timer, path, slice or scope is never something a
    /// certificate renewal needs, and a bare name or a template (kubelet@.service) is not one exact service.
    /// </summary>
    public static string? RestartRefusal(string unit)
    {
        if (!IsValid(unit))
        {
            return $"'{unit}' is not a systemd unit name; nothing was restarted, refused";
        }
        if (!unit.EndsWith(ServiceSuffix, StringComparison.Ordinal))
        {
            return $"{unit} is not a service: only .service units are ever restarted (targets, sockets, mounts, timers and the like never are); refused";
        }
        var name = unit[..^ServiceSuffix.Length];
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (name.Length == 0 || (at >= 0 && (at == 0 || at == name.Length - 1 || name.IndexOf('@', at + 1) >= 0)))
        {
            return $"{unit} is not one service (a template or an empty name); only an exact service the node's units name is restarted; refused";
        }
        return null;
    }

    private const string ServiceSuffix = ".service";

    /// <summary>The unit on the node named so (with or without ".service"), else null.</summary>
    public static SystemdUnit? Find(NodeInventory inventory, string unit) =>
        inventory.Units.FirstOrDefault(u => u.Name == unit || u.Name == unit + ".service");

    public static bool IsEtcd(SystemdUnit unit) =>
        unit.Program == "etcd" || unit.Environment.Keys.Any(k => k.StartsWith("ETCD_", StringComparison.Ordinal))
        || unit.GetSetting("--advertise-client-urls") is not null;

    public static bool IsApiServer(SystemdUnit unit) => unit.Program == "kube-apiserver" || unit.Name == "kube-apiserver.service";

    public static bool IsKubelet(SystemdUnit unit) => unit.Program == "kubelet" || unit.Name == "kubelet.service";
}
