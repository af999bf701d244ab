using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>A new CA made with openssl, as an operator makes one for `--new-ca-cert` and `--new-ca-key`: an EC key, CA:TRUE.</summary>
internal static class NewCaFiles
{
    /// <param name="keyForm">"pkcs8" (BEGIN PRIVATE KEY) or "sec1" (BEGIN EC PARAMETERS, then BEGIN EC PRIVATE KEY, as `openssl ecparam -genkey` writes it)</param>
    public static (string Certificate, string Key) Make(string folder, string keyForm)
    {
        var key = Path.Combine(folder, $"new-ca-{keyForm}.key");
        var certificate = Path.Combine(folder, $"new-ca-{keyForm}.crt");
        if (keyForm == "sec1")
        {
            Openssl.Checked("ecparam", "-name", "prime256v1", "-genkey", "-out", key);
        }
        else
        {
            Openssl.Checked("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", key);
        }
        Openssl.Checked("req", "-x509", "-new", "-key", key, "-out", certificate, "-days", "3650", "-subj", "/CN=kubernetes-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return (certificate, key);
    }
}
