using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Keys;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Certificates;

/// <summary>A scratch folder where tests make keys, certificates and CSRs with the openssl CLI.</summary>
public sealed class OpensslScratch : IDisposable
{
    public string Directory { get; } = ScratchDirectory.Create("crypto");

    public string PathOf(string name) => Path.Combine(Directory, name);

    public string WriteText(string name, string text)
    {
        File.WriteAllText(PathOf(name), text);
        return PathOf(name);
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        File.WriteAllBytes(PathOf(name), bytes);
        return PathOf(name);
    }

    /// <summary>A SEC1 ("EC PRIVATE KEY") key on P-256 or P-384.</summary>
    public string EcKey(string name, string curve = "prime256v1")
    {
        Openssl.Checked("ecparam", "-name", curve, "-genkey", "-noout", "-out", PathOf(name));
        return PathOf(name);
    }

    /// <summary>A PKCS#1 ("RSA PRIVATE KEY") key.</summary>
    public string RsaKey(string name, int bits = 2048)
    {
        Openssl.Checked("genrsa", "-traditional", "-out", PathOf(name), bits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return PathOf(name);
    }

    /// <summary>A self-signed CA like an operator makes it: CA:TRUE, SKI; extra -addext values as given.</summary>
    public string SelfSignedCa(string name, string key, string subject, params string[] addext) =>
        SelfSignedCa(name, key, subject, 30, null, addext);

    /// <summary>
    /// A self-signed CA valid <paramref name="days"/> days, signed with <paramref name="digest"/> (openssl's default
    /// when null), as runbooks make them: `openssl req -x509 -new -sha512 -days 3653` in kubernetes-the-hard-way.
    /// </summary>
    public string SelfSignedCa(string name, string key, string subject, int days, string? digest, params string[] addext)
    {
        var arguments = new List<string>
        {
            "req", "-x509", "-new", "-key", key, "-subj", subject, "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-utf8", "-out", PathOf(name),
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        };
        if (digest is not null)
        {
            arguments.Add("-" + digest);
        }
        foreach (var extension in addext)
        {
            arguments.Add("-addext");
            arguments.Add(extension);
        }
        Openssl.Checked([.. arguments]);
        return PathOf(name);
    }

    /// <summary>A leaf signed by a CA with the extensions in <paramref name="extensionLines"/> (an openssl extfile section).</summary>
    public string Leaf(string name, string key, string subject, string caCertificate, string caKey, int days,
        params string[] extensionLines) =>
        LeafSignedWith(null, name, key, subject, caCertificate, caKey, days, extensionLines);

    /// <summary>A leaf as <see cref="Leaf"/> makes it, signed with <paramref name="digest"/> (openssl's default when null).</summary>
    public string LeafSignedWith(string? digest, string name, string key, string subject, string caCertificate, string caKey,
        int days, params string[] extensionLines)
    {
        var csr = PathOf(name + ".csr");
        Openssl.Checked("req", "-new", "-key", key, "-subj", subject, "-utf8", "-out", csr);
        var extfile = WriteText(name + ".ext", "[ leaf ]\n" + string.Join('\n', extensionLines) + "\n");
        var arguments = new List<string>
        {
            "x509", "-req", "-in", csr, "-CA", caCertificate, "-CAkey", caKey, "-set_serial", "0x1234",
            "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture), "-extfile", extfile,
            "-extensions", "leaf", "-out", PathOf(name),
        };
        if (digest is not null)
        {
            arguments.Add("-" + digest);
        }
        Openssl.Checked([.. arguments]);
        return PathOf(name);
    }

    public static CertificateInfo LoadCertificate(string path) =>
        CertificateInfo.Parse(Pem.Read(File.ReadAllText(path), path).Single(b => b.Label == "CERTIFICATE").Der, path);

    public static PrivateKey LoadKey(string path) =>
        PrivateKey.Parse(Pem.Read(File.ReadAllText(path), path).Single(b => PrivateKey.IsPrivateKeyLabel(b.Label)), path);

    public string SaveCertificate(string name, CertificateInfo certificate) => WriteText(name, certificate.ToPem());

    public void Dispose() => ScratchDirectory.Delete(Directory);
}
