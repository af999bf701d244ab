using System.Formats.Asn1;
using System.Security.Cryptography;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Pki.Keys;

/// <summary>An RSA or ECDSA private key loaded from PEM; every operation with it runs in System.Security.Cryptography.</summary>
public sealed class PrivateKey : IDisposable
{
    private const string Pkcs1Label = "RSA PRIVATE KEY";
    private const string Sec1Label = "EC PRIVATE KEY";
    private const string Pkcs8Label = "PRIVATE KEY";
    private const string EncryptedPkcs8Label = "ENCRYPTED PRIVATE KEY";

    private PrivateKey(AsymmetricAlgorithm algorithm, string where = "")
    {
        Algorithm = algorithm;
        SubjectPublicKeyInfoDer = algorithm.ExportSubjectPublicKeyInfo();
        Description = algorithm switch
        {
            RSA rsa => $"RSA {rsa.KeySize}",
            ECDsa ecdsa => "ECDSA " + CurveName(ecdsa),
            _ => algorithm.GetType().Name,
        } + where;
    }

    /// <summary>The key: an <see cref="RSA"/> or an <see cref="ECDsa"/>.</summary>
    public AsymmetricAlgorithm Algorithm { get; }

    public byte[] SubjectPublicKeyInfoDer { get; }

    /// <summary>"RSA 2048", "ECDSA P-256", "ECDSA P-384".</summary>
    public string Description { get; }

    public static bool IsPrivateKeyLabel(string pemLabel) =>
        pemLabel is Pkcs1Label or Sec1Label or Pkcs8Label or EncryptedPkcs8Label;

    /// <summary>Reads a PKCS#1, SEC1 or unencrypted PKCS#8 key.</summary>
    public static PrivateKey Parse(PemBlock block, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Label == EncryptedPkcs8Label)
        {
            throw new PkiException(
                $"{sourceName}: the private key is encrypted with a passphrase; CertFleet needs the key unencrypted " +
                "(decrypt it with `openssl pkey -in KEY -out KEY.plain`, keep mode 0600) or give the passphrase");
        }
        if (LegacyEncryptedPem.IsEncrypted(block))
        {
            throw new PkiException(
                $"{sourceName}: the private key is encrypted with a passphrase (Proc-Type: 4,ENCRYPTED, " +
                $"{LegacyEncryptedPem.CipherOf(block)}); CertFleet needs the key unencrypted (decrypt it with `openssl pkey " +
                "-in KEY -out KEY.plain`, keep mode 0600) or give the passphrase");
        }
        return Load(block, sourceName, block.Label switch
        {
            Pkcs1Label => () => ImportRsa(rsa => rsa.ImportRSAPrivateKey(block.Der, out _)),
            Sec1Label => () => ImportEc(ec => ec.ImportECPrivateKey(block.Der, out _)),
            Pkcs8Label => () => ImportPkcs8(block.Der),
            _ => throw NotAKey(block, sourceName),
        });
    }

    /// <summary>
    /// Reads an encrypted PKCS#8 key ("ENCRYPTED PRIVATE KEY") or a traditionally encrypted PKCS#1/SEC1 one
    /// (Proc-Type: 4,ENCRYPTED) with its passphrase.
    /// </summary>
    public static PrivateKey Parse(PemBlock block, string sourceName, ReadOnlySpan<char> passphrase)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (LegacyEncryptedPem.IsEncrypted(block))
        {
            var pkcs8 = LegacyEncryptedPem.DecryptToPkcs8(block, sourceName, passphrase);
            try
            {
                return Load(block, sourceName, () => ImportPkcs8(pkcs8));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }
        if (block.Label != EncryptedPkcs8Label)
        {
            return Parse(block, sourceName);
        }
        var password = passphrase.ToArray();
        try
        {
            // PKCS#8 does not say the key type outside the encryption, so try both types CertFleet supports.
            return new PrivateKey(ImportRsa(rsa => rsa.ImportEncryptedPkcs8PrivateKey(password, block.Der, out _)));
        }
        catch (CryptographicException)
        {
            try
            {
                return new PrivateKey(ImportEc(ec => ec.ImportEncryptedPkcs8PrivateKey(password, block.Der, out _)));
            }
            catch (CryptographicException e)
            {
                throw new PkiException(
                    $"{sourceName}: the encrypted private key could not be decrypted (wrong passphrase, or not an RSA " +
                    "or ECDSA key); check the passphrase", e);
            }
        }
        finally
        {
            Array.Clear(password);
        }
    }

    /// <summary>
    /// A key inside a PKCS#11 token (an HSM), opened through OpenSSL's pkcs11 engine: every signature is made by the
    /// token and the key never enters this process (the token keeps it sensitive; only a handle is here).
    /// </summary>
    /// <param name="pinSource">where the PIN came from (a file's path), for the message of a wrong one</param>
    public static PrivateKey Open(Pkcs11KeyUri uri, ReadOnlySpan<char> pin, string pinSource)
    {
        ArgumentNullException.ThrowIfNull(uri);
        using var handle = Pkcs11Engine.OpenPrivateKey(uri, pin, pinSource);
        AsymmetricAlgorithm algorithm;
        try
        {
            algorithm = new RSAOpenSsl(handle);
        }
        catch (CryptographicException)
        {
            try
            {
                algorithm = new ECDsaOpenSsl(handle);
            }
            catch (CryptographicException e)
            {
                throw new PkiException($"{uri}: the token's key is neither RSA nor ECDSA; CertFleet handles RSA and ECDSA (P-256, P-384) keys", e);
            }
        }
        return new PrivateKey(algorithm, $" in PKCS#11 token '{uri.Token}'");
    }

    /// <summary>A key made in this process (a new CA key): owned by the returned object from here on.</summary>
    internal static PrivateKey FromGenerated(AsymmetricAlgorithm algorithm) => new(algorithm);

    /// <summary>The key as PKCS#8 PEM ("PRIVATE KEY"), as openssl 3 writes a new key; only for a key this process made.</summary>
    internal string ExportPkcs8Pem() => Algorithm.ExportPkcs8PrivateKeyPem() + "\n";

    /// <summary>True when the certificate carries this key's public key.</summary>
    public bool Matches(CertificateInfo certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return SubjectPublicKey.AreSame(SubjectPublicKeyInfoDer, certificate.SubjectPublicKeyInfoDer);
    }

    public void Dispose() => Algorithm.Dispose();

    public override string ToString() => Description;

    /// <summary>What this key signs with when nothing asks otherwise: its CSRs, and a renewal of an unknown algorithm.</summary>
    internal SignatureAlgorithm DefaultSignatureAlgorithm => SignatureAlgorithm.For(Algorithm);

    private static PrivateKey Load(PemBlock block, string sourceName, Func<AsymmetricAlgorithm> import)
    {
        try
        {
            return new PrivateKey(import());
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException or PlatformNotSupportedException)
        {
            throw new PkiException(
                $"{sourceName}: the '{block.Label}' block is not a readable private key ({e.Message}); if it is " +
                "encrypted (Proc-Type: 4,ENCRYPTED) decrypt it first, otherwise restore the key from a backup", e);
        }
    }

    private static AsymmetricAlgorithm ImportPkcs8(byte[] der)
    {
        var info = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
        info.ReadInteger();
        var oid = info.ReadSequence().ReadObjectIdentifier();
        return oid switch
        {
            "1.2.840.113549.1.1.1" => ImportRsa(rsa => rsa.ImportPkcs8PrivateKey(der, out _)),
            "1.2.840.10045.2.1" => ImportEc(ec => ec.ImportPkcs8PrivateKey(der, out _)),
            _ => throw new CryptographicException(
                $"key algorithm {oid} is not supported; CertFleet handles RSA and ECDSA (P-256, P-384) keys"),
        };
    }

    private static RSA ImportRsa(Action<RSA> import)
    {
        var rsa = RSA.Create();
        try
        {
            import(rsa);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static ECDsa ImportEc(Action<ECDsa> import)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            import(ecdsa);
            return ecdsa;
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    private static string CurveName(ECDsa ecdsa) => ecdsa.ExportParameters(false).Curve.Oid.Value switch
    {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        var other => other ?? $"{ecdsa.KeySize}-bit curve",
    };

    private static PkiException NotAKey(PemBlock block, string sourceName) => new(
        $"{sourceName}: not a PEM private key (the block is '{block.Label}', expected 'RSA PRIVATE KEY', " +
        "'EC PRIVATE KEY' or 'PRIVATE KEY'); point to the key file or restore it from a backup");
}
