using CertFleet.Pki.Inventory;
using CertFleet.Pki.Systemd;

namespace CertFleet.Agent.Gates;

/// <summary>Unit names from the coordinator end up in shell commands, so only systemd's own name characters pass.</summary>
internal static class UnitNames
{
    public static bool IsValid(string unit) =>
        unit.Length is > 0 and <= 256 && unit.All(c => char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or ':' or '-' or '\\')
        && !unit.StartsWith('-');

    /// <summary>The unit on the node named so (with or without ".service"), else null.</summary>
    public static SystemdUnit? Find(NodeInventory inventory, string unit) =>
        inventory.Units.FirstOrDefault(u => u.Name == unit || u.Name == unit + ".service");

    public static bool IsEtcd(SystemdUnit unit) =>
        unit.Program == "etcd" || unit.Environment.Keys.Any(k => k.StartsWith("ETCD_", StringComparison.Ordinal))
        || unit.GetSetting("--advertise-client-urls") is not null;

    public static bool IsApiServer(SystemdUnit unit) => unit.Program == "kube-apiserver" || unit.Name == "kube-apiserver.service";

    public static bool IsKubelet(SystemdUnit unit) => unit.Program == "kubelet" || unit.Name == "kubelet.service";
}
