using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Pki.Keys;

/// <summary>
/// A traditionally encrypted PEM key ("RSA PRIVATE KEY" or "EC PRIVATE KEY" with "Proc-Type: 4,ENCRYPTED" and a
/// "DEK-Info" line): what OpenSSL 1.x's `genrsa -aes256` writes, common on older clusters' CA keys. Decrypted here as
/// OpenSSL does (EVP_BytesToKey: MD5, one round, the IV's first 8 bytes as salt; then CBC) with
/// System.Security.Cryptography, which leaves the key's own DER (PKCS#1 or SEC1). Not BouncyCastle's OpenSSL reader:
/// since `certfleet renew --local --ca-key` reads CA keys too, it made the native CLI 2.7 MB larger. Read only:
/// CertFleet never writes this format (its key derivation is a single MD5 over the passphrase, far weaker than
/// PKCS#8's PBKDF2).
/// </summary>
internal static class LegacyEncryptedPem
{
    /// <summary>What `genrsa`/`rsa`/`ec` write with -aes128, -aes192, -aes256 and -des3, and their key lengths in bytes.</summary>
    private static readonly Dictionary<string, int> KeyLengthBytes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["AES-128-CBC"] = 16,
        ["AES-192-CBC"] = 24,
        ["AES-256-CBC"] = 32,
        ["DES-EDE3-CBC"] = 24,
    };

    public static bool IsEncrypted(PemBlock block) =>
        block.Headers.Any(h => h.Key == "Proc-Type" && h.Value.EndsWith(",ENCRYPTED", StringComparison.Ordinal));

    /// <summary>The cipher its DEK-Info names ("AES-256-CBC"), or "no DEK-Info" when the line is missing.</summary>
    public static string CipherOf(PemBlock block) =>
        block.Headers.FirstOrDefault(h => h.Key == "DEK-Info").Value is { } dekInfo ? dekInfo.Split(',')[0].Trim() : "no DEK-Info";

    /// <summary>
    /// The key's DER as the label says (PKCS#1 for "RSA PRIVATE KEY", SEC1 for "EC PRIVATE KEY"), decrypted; the
    /// caller imports it and clears it.
    /// </summary>
    public static byte[] Decrypt(PemBlock block, string sourceName, ReadOnlySpan<char> passphrase)
    {
        var cipher = CipherOf(block);
        if (!KeyLengthBytes.TryGetValue(cipher, out var keyLength))
        {
            throw new PkiException(
                $"{sourceName}: the key is encrypted with {cipher} (its DEK-Info line), which CertFleet does not read; it reads " +
                $"{string.Join(", ", KeyLengthBytes.Keys)} and encrypted PKCS#8. Re-encrypt it as PKCS#8: `openssl pkcs8 -topk8 -v2 aes-256-cbc " +
                "-in KEY -out KEY.p8` (keep mode 0600) and point to KEY.p8");
        }
        var isDes = cipher.StartsWith("DES", StringComparison.OrdinalIgnoreCase);
        var iv = InitializationVector(block, sourceName, cipher, isDes ? 8 : 16);
        var password = new byte[Encoding.UTF8.GetByteCount(passphrase)];
        var key = new byte[keyLength];
        try
        {
            Encoding.UTF8.GetBytes(passphrase, password);
            DeriveKey(password, iv.AsSpan(0, 8), key);
            using SymmetricAlgorithm algorithm = isDes ? TripleDES.Create() : Aes.Create();
            algorithm.Key = key;
            return algorithm.DecryptCbc(block.Der, iv, PaddingMode.PKCS7);
        }
        catch (CryptographicException e)
        {
            // a wrong passphrase: bad CBC padding almost always (and bytes that are no key otherwise, see PrivateKey)
            throw WrongPassphrase(sourceName, cipher, e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static PkiException WrongPassphrase(string sourceName, string cipher, Exception inner) => new(
        $"{sourceName}: the encrypted private key ({cipher}) could not be decrypted (wrong passphrase, or a damaged " +
        "file); check the passphrase", inner);

    /// <summary>OpenSSL's EVP_BytesToKey with MD5 and one round: D1 = MD5(password, salt), Di = MD5(Di-1, password, salt).</summary>
    private static void DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Span<byte> key)
    {
        Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
        var input = new byte[MD5.HashSizeInBytes + password.Length + salt.Length];
        try
        {
            var filled = 0;
            var previous = 0;
            while (filled < key.Length)
            {
                digest[..previous].CopyTo(input);
                password.CopyTo(input.AsSpan(previous));
                salt.CopyTo(input.AsSpan(previous + password.Length));
                MD5.HashData(input.AsSpan(0, previous + password.Length + salt.Length), digest);
                var take = Math.Min(digest.Length, key.Length - filled);
                digest[..take].CopyTo(key[filled..]);
                filled += take;
                previous = digest.Length;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(digest);
        }
    }

    private static byte[] InitializationVector(PemBlock block, string sourceName, string cipher, int lengthBytes)
    {
        var dekInfo = block.Headers.First(h => h.Key == "DEK-Info").Value.Split(',');
        try
        {
            var iv = dekInfo.Length == 2 ? Convert.FromHexString(dekInfo[1].Trim()) : [];
            if (iv.Length == lengthBytes)
            {
                return iv;
            }
        }
        catch (FormatException)
        {
            // named below
        }
        throw new PkiException(string.Create(CultureInfo.InvariantCulture,
            $"{sourceName}: the DEK-Info line does not give {cipher}'s IV as {lengthBytes * 2} hex digits; the file is damaged, restore the key from a backup"));
    }
}
