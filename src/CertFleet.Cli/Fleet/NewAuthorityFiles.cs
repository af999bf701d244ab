using System.Security.Cryptography;
using System.Text;
using CertFleet.Pki;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// `--new-ca-cert F --new-ca-key F`: a new CA made elsewhere, read here and sent as text. Checked only as far as
/// the CLI can without the old CA (PEM, one certificate, one unencrypted key, each file at most 1 MiB); the
/// coordinator judges the rest (a CA, its key, not weaker than the old one). Nothing is sent while a file will not do.
/// </summary>
internal static class NewAuthorityFiles
{
    /// <summary>A CA certificate or key is a few KiB: a larger file is the wrong one, and is not read whole.</summary>
    public const int MaxBytes = 1024 * 1024;

    private static readonly string[] KeyLabels = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

    /// <summary>Both files' text; a <see cref="PkiException"/> with every problem of both, each naming its file.</summary>
    public static (string CertificatePem, string KeyPem) Read(string certificatePath, string keyPath)
    {
        var problems = new List<string>();
        var certificate = ReadText("--new-ca-cert", certificatePath, problems);
        var key = ReadText("--new-ca-key", keyPath, problems);
        if (certificate is not null)
        {
            CheckCertificate(certificatePath, certificate, problems);
        }
        if (key is not null)
        {
            CheckKey(keyPath, key, problems);
        }
        if (problems.Count > 0)
        {
            throw new PkiException(string.Join(Environment.NewLine + "certfleet: ", problems) + Environment.NewLine
                + "certfleet: nothing was sent to the coordinator");
        }
        return (certificate!, key!);
    }

    private static void CheckCertificate(string path, string text, List<string> problems)
    {
        var labels = Labels(text);
        var certificates = labels.Count(l => l == "CERTIFICATE");
        if (labels.Any(l => l.EndsWith("PRIVATE KEY", StringComparison.Ordinal)))
        {
            // the certificate's text is kept where certificates are; a key must not travel with it
            problems.Add($"--new-ca-cert {path} holds a private key too; give the certificate alone there and its key with --new-ca-key");
        }
        else if (certificates != 1)
        {
            problems.Add(certificates == 0
                ? $"--new-ca-cert {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the new CA's certificate in PEM "
                    + "(openssl x509 -inform DER -in F -out F.pem converts a DER one)"
                : $"--new-ca-cert {path} holds {certificates} certificates; give the new CA's certificate alone");
        }
    }

    private static void CheckKey(string path, string text, List<string> problems)
    {
        var labels = Labels(text);
        var keys = labels.Count(l => KeyLabels.Contains(l, StringComparer.Ordinal));
        if (labels.Contains("ENCRYPTED PRIVATE KEY", StringComparer.Ordinal) || text.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            problems.Add($"--new-ca-key {path} is encrypted, and a re-key has no way to pass its passphrase; give the key decrypted "
                + "(openssl pkey -in F -out F.plain, mode 0600)");
        }
        else if (keys != 1)
        {
            problems.Add(keys == 0
                ? $"--new-ca-key {path} holds no PEM private key (-----BEGIN PRIVATE KEY-----, or RSA or EC PRIVATE KEY); give the new CA's key in PEM"
                : $"--new-ca-key {path} holds {keys} private keys; give the new CA's key alone");
        }
    }

    private static string? ReadText(string option, string path, List<string> problems)
    {
        if (Directory.Exists(path))
        {
            problems.Add($"{option} {path} is a folder; give the file");
            return null;
        }
        var bytes = new byte[MaxBytes + 1];
        var length = 0;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            int read;
            while (length < bytes.Length && (read = stream.Read(bytes, length, bytes.Length - length)) > 0)
            {
                length += read;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problems.Add($"{option} {path}: no such file");
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            problems.Add($"{option} {path} cannot be read (permission denied); run certfleet as a user who may read it");
            return null;
        }
        catch (IOException e)
        {
            problems.Add($"{option} {path} cannot be read: {e.Message}");
            return null;
        }
        if (length > MaxBytes)
        {
            problems.Add($"{option} {path} is larger than 1 MiB, and a CA certificate or key is a few KiB: is it the right file?");
            return null;
        }
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            problems.Add($"{option} {path} is not text, so not PEM (a DER file?); give it in PEM");
            return null;
        }
    }

    /// <summary>The label of every well-formed PEM block, in order.</summary>
    private static List<string> Labels(string text)
    {
        var labels = new List<string>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            labels.Add(rest[fields.Label].ToString());
            rest = rest[fields.Location.End..];
        }
        return labels;
    }
}
