using CertFleet.Pki;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// Reads a cluster CA key file, decrypting an "ENCRYPTED PRIVATE KEY" (PKCS#8) with the passphrase file given for it.
/// The passphrase is read only here, kept in a buffer that is cleared after use, and never logged.
/// </summary>
internal static class ClusterAuthorityKey
{
    public static PrivateKey Read(ClusterAuthorityFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var block = Pem.Read(File.ReadAllText(files.KeyPath), files.KeyPath).FirstOrDefault(b => PrivateKey.IsPrivateKeyLabel(b.Label))
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

    private static char[] ReadPassphrase(string path)
    {
        try
        {
            var text = File.ReadAllText(path).AsSpan();
            // `echo secret > file` and systemd-creds both may leave a trailing newline that is not part of it
            return text.TrimEnd("\r\n").ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: the CA key passphrase cannot be read ({e.Message}); check --ca-key-passphrase-file, or the "
                + "LoadCredential= of the unit for --ca-key-passphrase-credential", e);
        }
    }
}
