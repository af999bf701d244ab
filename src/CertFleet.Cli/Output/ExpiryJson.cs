using System.Text.Json;
using CertFleet.Pki.Inventory;

namespace CertFleet.Cli.Output;

/// <summary>
/// `check-expiration -o json`: one array, an element per certificate, exactly the fields of the interface
/// contract in DESIGN.md; a file that could not be read is an element with `path` and `error`.
/// </summary>
internal static class ExpiryJson
{
    public static void Write(TextWriter writer, NodeInventory inventory, DateTimeOffset now)
    {
        JsonText.Write(writer, json =>
        {
            json.WriteStartArray();
            WriteElements(json, inventory.Certificates.Select(CertificateView.From), inventory.Errors.Select(e => (e.Path, e.Message)), now);
            json.WriteEndArray();
        });
    }

    /// <summary>The array's elements: every certificate, then every file that could not be read.</summary>
    public static void WriteElements(Utf8JsonWriter json, IEnumerable<CertificateView> certificates,
        IEnumerable<(string Path, string Message)> errors, DateTimeOffset now)
    {
        foreach (var certificate in certificates)
        {
            WriteCertificate(json, certificate, now);
        }
        foreach (var (path, message) in errors)
        {
            json.WriteStartObject();
            json.WriteString("path", path);
            json.WriteString("error", message);
            json.WriteEndObject();
        }
    }

    private static void WriteCertificate(Utf8JsonWriter json, CertificateView entry, DateTimeOffset now)
    {
        var certificate = entry.Certificate;
        json.WriteStartObject();
        json.WriteString("path", entry.Path);
        json.WriteString("kubeconfigUser", entry.KubeconfigUser);
        json.WriteString("subject", certificate.Subject);
        json.WriteString("issuer", certificate.Issuer);
        if (entry.IssuedBy is { } issuedBy)
        {
            json.WriteString("issuedBy", issuedBy); // fleet status only: which coordinator CA, old or new during a re-key
        }
        json.WriteString("serial", certificate.SerialHex);
        json.WriteString("notBefore", ResidualTime.Iso(certificate.NotBefore));
        json.WriteString("notAfter", ResidualTime.Iso(certificate.NotAfter));
        json.WriteNumber("residualSeconds", (long)Math.Floor((certificate.NotAfter - now).TotalSeconds));
        json.WriteBoolean("isCa", certificate.IsCa);
        json.WriteStartArray("sans");
        foreach (var san in certificate.SubjectAlternativeNames)
        {
            json.WriteStringValue(san);
        }
        json.WriteEndArray();
        json.WriteString("keyPath", entry.KeyPath);
        if (entry.KeyMatches is { } matches)
        {
            json.WriteBoolean("keyMatches", matches);
        }
        else
        {
            json.WriteNull("keyMatches");
        }
        json.WriteStartArray("usedBy");
        foreach (var unit in entry.UsedBy)
        {
            json.WriteStringValue(unit);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
