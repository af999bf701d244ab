using CertFleet.Pki.Inventory;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Agent.Handlers;

/// <summary>A node inventory as the wire carries it: one ReportedCertificate per occurrence, as check-expiration lists them.</summary>
internal static class InventoryMapping
{
    public static InventoryReport ToReport(NodeInventory inventory)
    {
        var report = new InventoryReport { TakenAt = Timestamp.FromDateTimeOffset(inventory.TakenAt) };
        report.Certificates.Add(inventory.Certificates.Select(ToReported));
        report.Errors.Add(inventory.Errors.Select(e => new ReportedError { Path = e.Path, Message = e.Message }));
        return report;
    }

    public static ReportedCertificate ToReported(CertificateEntry entry)
    {
        var reported = new ReportedCertificate
        {
            Der = ByteString.CopyFrom(entry.Certificate.Der),
            Path = entry.Path,
            KubeconfigUser = entry.KubeconfigUser ?? "",
            KeyPath = entry.KeyPath ?? "",
            KeyState = entry.KeyMatches switch
            {
                true => KeyState.Matches,
                false => KeyState.Mismatch,
                null => KeyState.NotFound,
            },
            Owner = entry.Owner switch
            {
                RenewalOwner.CertFleet => CertificateOwner.Certfleet,
                RenewalOwner.KubeletRotation => CertificateOwner.KubeletRotation,
                RenewalOwner.KubeletSelfSigned => CertificateOwner.KubeletSelfSigned,
                RenewalOwner.SelfSigned => CertificateOwner.SelfSigned,
                RenewalOwner.KubeletRotationHistory => CertificateOwner.KubeletRotationHistory,
                _ => CertificateOwner.Unspecified,
            },
            IssuerPath = entry.IssuerPath ?? "",
            OwnerNote = entry.OwnerNote ?? "",
            RotationLink = entry.RotationLink ?? "",
        };
        reported.UsedBy.Add(entry.UsedBy);
        return reported;
    }
}
