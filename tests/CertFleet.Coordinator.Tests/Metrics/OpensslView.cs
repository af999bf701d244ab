using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Metrics;

/// <summary>A certificate on a node as openssl sees it, with where x509-certificate-exporter would say it is.</summary>
internal sealed record SeenCertificate(string Path, string EmbeddedKind, string EmbeddedKey, string SerialDecimal,
    string SubjectCn, string SubjectO, string IssuerCn, long NotBefore, long NotAfter);

/// <summary>Every certificate in a node folder (but CertFleet's own backups), read with openssl: PEM files and the *-data fields of kubeconfigs.</summary>
internal static partial class OpensslView
{
    public static IReadOnlyList<SeenCertificate> Node(string nodeRoot, string scratch)
    {
        var seen = new List<SeenCertificate>();
        foreach (var file in Directory.EnumerateFiles(nodeRoot, "*", SearchOption.AllDirectories))
        {
            var pathOnNode = "/" + Path.GetRelativePath(nodeRoot, file).Replace('\\', '/');
            if (pathOnNode.StartsWith("/var/lib/certfleet/", StringComparison.Ordinal))
            {
                // the agent's backups and journal: copies of what was replaced, not certificates in use
                continue;
            }
            var text = File.ReadAllText(file);
            if (text.Contains("kind: Config", StringComparison.Ordinal))
            {
                var kubeconfig = Kubeconfig.Parse(text, file);
                foreach (var cluster in kubeconfig.Clusters.Where(c => c.CertificateAuthorityData is not null))
                {
                    seen.Add(Embedded(pathOnNode, "cluster", cluster.Name, Kubeconfig.DecodeData(cluster.CertificateAuthorityData!, file), scratch));
                }
                foreach (var user in kubeconfig.Users.Where(u => u.ClientCertificateData is not null))
                {
                    seen.Add(Embedded(pathOnNode, "user", user.Name, Kubeconfig.DecodeData(user.ClientCertificateData!, file), scratch));
                }
            }
            else if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                Assert.True(Regex.Count(text, "BEGIN CERTIFICATE") == 1, $"{file}: a bundle; this view reads one certificate per file");
                seen.Add(Read(file, pathOnNode, "", ""));
            }
        }
        return seen;
    }

    private static SeenCertificate Embedded(string pathOnNode, string kind, string key, byte[] pem, string scratch)
    {
        var temporary = Path.Combine(scratch, Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllBytes(temporary, pem);
        return Read(temporary, pathOnNode, kind, key);
    }

    private static SeenCertificate Read(string file, string pathOnNode, string kind, string key)
    {
        var lines = Openssl.Checked("x509", "-in", file, "-noout", "-serial", "-subject", "-issuer", "-startdate", "-enddate", "-nameopt", "RFC2253")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var serial = BigInteger.Parse("0" + lines["serial"], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return new SeenCertificate(pathOnNode, kind, key, serial.ToString(CultureInfo.InvariantCulture),
            Attribute(lines["subject"], "CN"), Attribute(lines["subject"], "O"), Attribute(lines["issuer"], "CN"),
            UnixTime(lines["notBefore"]), UnixTime(lines["notAfter"]));
    }

    // the fixture's names have no escaped commas, so a plain split reads them
    private static string Attribute(string rfc2253, string name) =>
        rfc2253.Split(',').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == name)?[1] ?? "";

    private static long UnixTime(string openssl) =>
        DateTimeOffset.ParseExact(Spaces().Replace(openssl, " "), "MMM d HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal).ToUnixTimeSeconds();

    [GeneratedRegex(" +")]
    private static partial Regex Spaces();
}
