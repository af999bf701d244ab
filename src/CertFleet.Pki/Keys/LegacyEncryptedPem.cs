using System.Text;
using CertFleet.Pki.PemEncoding;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;

namespace CertFleet.Pki.Keys;

/// <summary>
/// A traditionally encrypted PEM key ("RSA PRIVATE KEY" or "EC PRIVATE KEY" with "Proc-Type: 4,ENCRYPTED" and a
/// "DEK-Info" line): what OpenSSL 1.x's `genrsa -aes256` writes, common on older clusters' CA keys. BouncyCastle's
/// OpenSSL reader decrypts it and the key is handed on as PKCS#8, so BouncyCastle only decrypts and encodes; every
/// operation with the key runs in System.Security.Cryptography. Read only: CertFleet never writes this format (its key
/// derivation is a single MD5 over the passphrase, far weaker than PKCS#8's PBKDF2).
/// </summary>
internal static class LegacyEncryptedPem
{
    /// <summary>What `genrsa`/`rsa`/`ec` write with -aes128, -aes192, -aes256 and -des3.</summary>
    private static readonly string[] Ciphers = ["AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "DES-EDE3-CBC"];

    public static bool IsEncrypted(PemBlock block) =>
        block.Headers.Any(h => h.Key == "Proc-Type" && h.Value.EndsWith(",ENCRYPTED", StringComparison.Ordinal));

    /// <summary>The cipher its DEK-Info names ("AES-256-CBC"), or "no DEK-Info" when the line is missing.</summary>
    public static string CipherOf(PemBlock block) =>
        block.Headers.FirstOrDefault(h => h.Key == "DEK-Info").Value is { } dekInfo ? dekInfo.Split(',')[0].Trim() : "no DEK-Info";

    /// <summary>The key as unencrypted PKCS#8 DER; the caller clears it after the import.</summary>
    public static byte[] DecryptToPkcs8(PemBlock block, string sourceName, ReadOnlySpan<char> passphrase)
    {
        var cipher = CipherOf(block);
        if (!Ciphers.Contains(cipher, StringComparer.OrdinalIgnoreCase))
        {
            throw new PkiException(
                $"{sourceName}: the key is encrypted with {cipher} (its DEK-Info line), which CertFleet does not read; it reads " +
                $"{string.Join(", ", Ciphers)} and encrypted PKCS#8. Re-encrypt it as PKCS#8: `openssl pkcs8 -topk8 -v2 aes-256-cbc " +
                "-in KEY -out KEY.p8` (keep mode 0600) and point to KEY.p8");
        }
        object? read;
        // OpenSSL derives the key from the passphrase's bytes (UTF-8 from a terminal or a file); BouncyCastle takes
        // each char as one byte and throws on a char above 255, so it is given those bytes, one char each
        var bytes = new byte[Encoding.UTF8.GetByteCount(passphrase)];
        Encoding.UTF8.GetBytes(passphrase, bytes);
        var characters = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            characters[i] = (char)bytes[i];
        }
        Array.Clear(bytes);
        try
        {
            read = new PemReader(new StringReader(Text(block)), new Passphrase(characters)).ReadObject();
        }
        catch (Exception e) when (e is IOException or CryptoException or ArgumentException or InvalidOperationException)
        {
            // a wrong passphrase: bad CBC padding almost always, otherwise bytes that are no key
            throw new PkiException(
                $"{sourceName}: the encrypted private key ({cipher}) could not be decrypted (wrong passphrase, or a damaged " +
                "file); check the passphrase", e);
        }
        finally
        {
            Array.Clear(characters);
        }
        return read switch
        {
            AsymmetricCipherKeyPair { Private: RsaPrivateCrtKeyParameters rsa } =>
                PrivateKeyInfoFactory.CreatePrivateKeyInfo(rsa).GetDerEncoded(),
            AsymmetricCipherKeyPair { Private: ECPrivateKeyParameters ec, Public: ECPublicKeyParameters ecPublic } =>
                EcPkcs8(ec, ecPublic, sourceName),
            _ => throw new PkiException(
                $"{sourceName}: the decrypted key is not an RSA or ECDSA private key; CertFleet handles RSA and ECDSA (P-256, P-384) keys"),
        };
    }

    /// <summary>
    /// PKCS#8 from the parts BouncyCastle read, with the public key the file holds. Not PrivateKeyInfoFactory: it
    /// computes the public key from the private one, a private-key operation in managed code.
    /// </summary>
    private static byte[] EcPkcs8(ECPrivateKeyParameters key, ECPublicKeyParameters publicKey, string sourceName)
    {
        var curve = key.PublicKeyParamSet ?? throw new PkiException(
            $"{sourceName}: the EC key has explicit curve parameters instead of a named curve; CertFleet handles P-256 and P-384");
        var parameters = new X962Parameters(curve);
        var structure = new ECPrivateKeyStructure(key.Parameters.N.BitLength, key.D, new DerBitString(publicKey.Q.GetEncoded(false)), parameters);
        return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, parameters), structure).GetDerEncoded();
    }

    /// <summary>The block as PEM text again, headers included, for BouncyCastle's reader.</summary>
    private static string Text(PemBlock block)
    {
        var text = new StringBuilder();
        text.Append("-----BEGIN ").Append(block.Label).Append("-----\n");
        foreach (var (name, value) in block.Headers)
        {
            text.Append(name).Append(": ").Append(value).Append('\n');
        }
        text.Append('\n').Append(Pem.Write(block.Label, block.Der).Split('\n', 2)[1]);
        return text.ToString();
    }

    private sealed class Passphrase(char[] characters) : IPasswordFinder
    {
        public char[] GetPassword() => characters;
    }
}
