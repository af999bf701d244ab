using System.Security.Cryptography.X509Certificates;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// The apiserver's etcd client files as they are on master-1's disk at one moment (ca.crt to verify the member with,
/// apiserver-etcd-client.crt/.key to authenticate), copied so that etcdctl uses exactly what <see cref="Describe"/>
/// names even if the node's files are replaced meanwhile.
/// </summary>
internal sealed record EtcdClientFiles(string CaFile, string CertificateFile, string KeyFile, string Description)
{
    private static readonly string[] Names = ["ca.crt", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"];

    /// <summary>Copies the node's files into <paramref name="folder"/>; null and the reason when one cannot be read.</summary>
    public static (EtcdClientFiles? Files, string Problem) ReadNow(string nodePki, string folder)
    {
        var copies = Names.Select(n => Path.Combine(folder, n)).ToArray();
        try
        {
            for (var i = 0; i < Names.Length; i++)
            {
                // read whole, then written: a rename on the node between two reads of one file cannot mix them
                File.WriteAllBytes(copies[i], File.ReadAllBytes(Path.Combine(nodePki, Names[i])));
            }
            return (new EtcdClientFiles(copies[0], copies[1], copies[2], Describe(copies[0], copies[1])), "");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return (null, $"master-1's etcd client files could not be read: {e.Message}");
        }
    }

    /// <summary>"ca.crt [3F2A19C0 9B1C77D2], client 5D0E…41 by 3F2A19C0": which CAs the client trusted and which signed it.</summary>
    private static string Describe(string caFile, string certificateFile)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caFile);
        using var client = X509Certificate2.CreateFromPem(File.ReadAllText(certificateFile)); // the certificate alone, no key
        var trusted = string.Join(' ', authorities.Select(c =>
            Short(c.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifier)));
        var signer = client.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier is { } aki
            ? Short(Convert.ToHexString(aki.Span))
            : "?";
        foreach (var authority in authorities)
        {
            authority.Dispose();
        }
        return $"ca.crt [{trusted}], client {client.SerialNumber[..4]}…{client.SerialNumber[^2..]} by {signer}";
    }

    private static string Short(string? keyIdentifier) => keyIdentifier is { Length: >= 8 } k ? k[..8] : "?";
}
