using CertFleet.Pki.Inventory;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>A node's inventory as its agent reports it (the mapping the real agent does).</summary>
internal static class InventoryReports
{
    public static InventoryReport From(NodeInventory inventory)
    {
        var report = new InventoryReport { TakenAt = Timestamp.FromDateTimeOffset(inventory.TakenAt) };
        foreach (var entry in inventory.Certificates)
        {
            var reported = new ReportedCertificate
            {
                Der = ByteString.CopyFrom(entry.Certificate.Der),
                Path = entry.Path,
                KubeconfigUser = entry.KubeconfigUser ?? "",
                KeyPath = entry.KeyPath ?? "",
                KeyState = entry.KeyMatches switch { true => KeyState.Matches, false => KeyState.Mismatch, null => KeyState.NotFound },
                Owner = entry.Owner switch
                {
                    RenewalOwner.KubeletRotation => CertificateOwner.KubeletRotation,
                    RenewalOwner.KubeletSelfSigned => CertificateOwner.KubeletSelfSigned,
                    RenewalOwner.SelfSigned => CertificateOwner.SelfSigned,
                    _ => CertificateOwner.Certfleet,
                },
                IssuerPath = entry.IssuerPath ?? "",
            };
            reported.UsedBy.AddRange(entry.UsedBy);
            report.Certificates.Add(reported);
        }
        report.Errors.AddRange(inventory.Errors.Select(e => new ReportedError { Path = e.Path, Message = e.Message }));
        return report;
    }
}
