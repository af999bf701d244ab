using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Pki.Authorities;

/// <summary>
/// Reads a cluster CA key file, decrypting an encrypted one (PKCS#8, or traditional Proc-Type: 4,ENCRYPTED) with the
/// passphrase file given for it; or opens a key inside a PKCS#11 token (a `pkcs11:` URI) with its PIN file. The
/// passphrase and the PIN are read only here, kept in buffers that are cleared after use, and never logged.
/// </summary>
public static class ClusterAuthorityKey
{
    public static PrivateKey Read(ClusterAuthorityFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.KeyIsInToken)
        {
            return Open(files);
        }
        string text;
        try
        {
            text = File.ReadAllText(files.KeyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"--ca-key {files.KeyPath}: cannot be read ({e.Message}); check the path and that this user may read it", e);
        }
        var block = Pem.Read(text, files.KeyPath).FirstOrDefault(b => PrivateKey.IsPrivateKeyLabel(b.Label))
            ?? throw new PkiException($"--ca-key {files.KeyPath}: holds no PEM private key; point to the CA key file");
        if (files.PassphraseFile is null)
        {
            return PrivateKey.Parse(block, files.KeyPath);
        }
        var passphrase = ReadPassphrase(files.PassphraseFile);
        try
        {
            return PrivateKey.Parse(block, files.KeyPath, passphrase);
        }
        finally
        {
            Array.Clear(passphrase);
        }
    }

    private static PrivateKey Open(ClusterAuthorityFiles files)
    {
        var uri = Pkcs11KeyUri.Parse(files.KeyPath);
        if (files.PinFile is null)
        {
            throw new PkiException($"{uri}: a key in a PKCS#11 token needs the token's PIN; give it with --ca-key-pin-credential NAME "
                + "(LoadCredential=NAME:/path in the unit) or --ca-key-pin-file F");
        }
        var pin = ReadSecret(files.PinFile, "the CA key's PIN", "--ca-key-pin-file", "--ca-key-pin-credential");
        try
        {
            return PrivateKey.Open(uri, pin, "the PIN from " + files.PinFile);
        }
        finally
        {
            Array.Clear(pin);
        }
    }

    private static char[] ReadPassphrase(string path) =>
        ReadSecret(path, "the CA key passphrase", "--ca-key-passphrase-file", "--ca-key-passphrase-credential");

    private static char[] ReadSecret(string path, string what, string fileOption, string credentialOption)
    {
        try
        {
            var text = File.ReadAllText(path).AsSpan();
            // `echo secret > file` and systemd-creds both may leave a trailing newline that is not part of it
            return text.TrimEnd("\r\n").ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: {what} cannot be read ({e.Message}); check {fileOption}, or the "
                + $"LoadCredential= of the unit for {credentialOption}", e);
        }
    }
}
