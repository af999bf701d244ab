using System.Globalization;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Metrics;

/// <summary>
/// The label set of x509-certificate-exporter's x509_cert_* series, so that project's Grafana dashboard (13922) and
/// Helm chart alert rules work unchanged on our /metrics. Where each convention comes from (github.com/enix/
/// x509-certificate-exporter):
/// <list type="bullet">
/// <item>names and order: pkg/registry/labels.go newSchema (v4: one label set for every series, unused labels empty,
/// which Prometheus treats as absent); we keep the file and kubeconfig labels and leave out the Kubernetes-secret ones
/// (secret_*, configmap_*, cabundle_*, crl_number), which would always be empty here; <c>node</c> is ours.</item>
/// <item><c>serial_number</c>: decimal, Go's <c>x509.Certificate.SerialNumber.String()</c> (labels.go serialString;
/// internal/collector.go in v3), not openssl's hex.</item>
/// <item><c>subject_*</c>/<c>issuer_*</c>: C, ST, L, O, OU, CN from Go's pkix.Name (labels.go dnValue): the first
/// value of Country, Province, Locality, Organization, OrganizationalUnit, and CommonName, which Go's
/// FillFromRDNSequence sets to the last CN in the name.</item>
/// <item><c>filepath</c> the file's path as watched (here: the path on the node), <c>filename</c> its base name
/// (labels.go fillLocationLabels, no --trim-path-components).</item>
/// <item><c>embedded_kind</c> <c>user</c> or <c>cluster</c> and <c>embedded_key</c> the user's or cluster's name
/// in the kubeconfig (pkg/source/kubeconfig/kubeconfig.go emit).</item>
/// </list>
/// </summary>
internal static class ExporterLabels
{
    public const string Node = "node";

    private static readonly string[] DnFields = ["C", "ST", "L", "O", "OU", "CN"];

    public static readonly string[] Names =
    [
        Node, "filename", "filepath", "embedded_kind", "embedded_key", "serial_number",
        .. DnFields.Select(f => "issuer_" + f), .. DnFields.Select(f => "subject_" + f),
    ];

    /// <summary>The labels that depend only on the certificate: serial_number, issuer_*, subject_* in order.</summary>
    public static string[] CertificateValues(CertificateInfo certificate) =>
        [DecimalSerial(certificate.SerialHex), .. NameValues(certificate.IssuerDer), .. NameValues(certificate.SubjectDer)];

    /// <summary>
    /// The label values of one reported certificate, in <see cref="Names"/> order. <paramref name="isKubeconfig"/>:
    /// the reported path is a kubeconfig, so a certificate in it without a user is a cluster's CA data.
    /// </summary>
    public static string[] Values(string node, ReportedCertificate reported, string[] certificateValues, bool isKubeconfig)
    {
        // the wire names the kubeconfig user of client-certificate-data but not the cluster of
        // certificate-authority-data, so a cluster's embedded_key stays empty (see the issue 6 report)
        var (kind, key) = reported.KubeconfigUser.Length > 0 ? ("user", reported.KubeconfigUser)
            : isKubeconfig ? ("cluster", "") : ("", "");
        return [node, FileName(reported.Path), reported.Path, kind, key, .. certificateValues];
    }

    /// <summary>Base name as Go's filepath.Base: the last element, "/" for the root, "." for nothing.</summary>
    private static string FileName(string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            return path.Length == 0 ? "." : "/";
        }
        return trimmed[(trimmed.LastIndexOf('/') + 1)..];
    }

    /// <summary>openssl's hex (what <see cref="CertificateInfo.SerialHex"/> holds) as Go's big.Int prints it.</summary>
    internal static string DecimalSerial(string serialHex)
    {
        var negative = serialHex.StartsWith('-');
        var digits = negative ? serialHex[1..] : serialHex;
        // a leading 0 keeps the value positive: .NET reads hex as two's complement
        var value = BigInteger.Parse("0" + digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return (negative ? -value : value).ToString(CultureInfo.InvariantCulture);
    }

    private static string[] NameValues(byte[] nameDer)
    {
        var values = new string[DnFields.Length];
        foreach (var rdn in new X500DistinguishedName(nameDer).EnumerateRelativeDistinguishedNames())
        {
            // multi-valued RDNs are vanishingly rare in cluster PKI; GetSingleElement* throws on them
            if (rdn.HasMultipleElements)
            {
                continue;
            }
            var index = Array.IndexOf(DnFields, FieldOf(rdn.GetSingleElementType().Value));
            if (index < 0)
            {
                continue;
            }
            var value = rdn.GetSingleElementValue() ?? "";
            // Go keeps the first of each list attribute but overwrites CommonName with each CN it meets
            if (values[index] is null || DnFields[index] == "CN")
            {
                values[index] = value;
            }
        }
        return [.. values.Select(v => v ?? "")];
    }

    private static string? FieldOf(string? oid) => oid switch
    {
        "2.5.4.6" => "C",
        "2.5.4.8" => "ST",
        "2.5.4.7" => "L",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.3" => "CN",
        _ => null,
    };
}
