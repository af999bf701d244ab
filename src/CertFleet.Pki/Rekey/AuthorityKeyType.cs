using System.Globalization;
using System.Security.Cryptography;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Rekey;

/// <summary>
/// The type and size of a CA key: RSA with its modulus size, or ECDSA with its curve size (256, 384, 521). What
/// `--key-type` names ("rsa:3072", "ec:P-384") and what the strength rule compares.
/// </summary>
public sealed record AuthorityKeyType(bool IsRsa, int Bits)
{
    /// <summary>"RSA 2048", "ECDSA P-384": the words <see cref="PrivateKey.Description"/> uses.</summary>
    public override string ToString() => IsRsa ? $"RSA {Bits}" : $"ECDSA P-{Bits}";

    /// <summary>
    /// Security strength in bits by NIST SP 800-57 part 1, table 2: RSA 1024 → 80, 2048 → 112, 3072 → 128,
    /// 7680 → 192, 15360 → 256; an EC curve gives half its size. What lets an RSA key be weighed against an EC one.
    /// </summary>
    public int SecurityBits => IsRsa
        ? Bits switch
        {
            < 2048 => 80,
            < 3072 => 112,
            < 7680 => 128,
            < 15360 => 192,
            _ => 256,
        }
        : Bits / 2;

    /// <summary>Weaker than <paramref name="other"/>: a smaller key of the same type, or less strength across types.</summary>
    public bool IsWeakerThan(AuthorityKeyType other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return IsRsa == other.IsRsa ? Bits < other.Bits : SecurityBits < other.SecurityBits;
    }

    /// <summary>The type of the key a certificate carries.</summary>
    public static AuthorityKeyType Of(CertificateInfo certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = SubjectPublicKey.Load(certificate.SubjectPublicKeyInfoDer)
            ?? throw new PkiException($"{certificate.Subject}: the CA's key is neither RSA nor ECDSA on a known curve; " +
                "CertFleet makes RSA and ECDSA (P-256, P-384, P-521) CA keys");
        return Of(key);
    }

    internal static AuthorityKeyType Of(AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => new AuthorityKeyType(true, rsa.KeySize),
        ECDsa ecdsa => new AuthorityKeyType(false, ecdsa.KeySize),
        _ => throw new PkiException($"a {key.GetType().Name} key is neither RSA nor ECDSA"),
    };

    /// <summary>
    /// Reads `--key-type`: "rsa" (2048), "rsa:3072", "ec" (P-256), "ec:P-384" (or "ec:384", "ecdsa:p-521").
    /// </summary>
    public static AuthorityKeyType Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().ToLowerInvariant().Split(':', 2);
        var size = parts.Length == 2 ? parts[1].Replace("p-", "", StringComparison.Ordinal).Replace("p", "", StringComparison.Ordinal) : null;
        AuthorityKeyType? parsed = parts[0] switch
        {
            "rsa" when size is null => new(true, 2048),
            "rsa" when int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var bits) && bits is >= 2048 and <= 8192 && bits % 1024 == 0
                => new(true, bits),
            "ec" or "ecdsa" when size is null => new(false, 256),
            "ec" or "ecdsa" when size is "256" or "384" or "521" => new(false, int.Parse(size, CultureInfo.InvariantCulture)),
            _ => null,
        };
        return parsed ?? throw new PkiException($"--key-type '{text}' is not a key type CertFleet makes; give rsa:2048, rsa:3072, " +
            "rsa:4096, ec:P-256, ec:P-384 or ec:P-521");
    }

    /// <summary>A new key of this type, made through System.Security.Cryptography.</summary>
    internal AsymmetricAlgorithm Generate() => IsRsa
        ? RSA.Create(Bits)
        : ECDsa.Create(Bits switch
        {
            256 => ECCurve.NamedCurves.nistP256,
            384 => ECCurve.NamedCurves.nistP384,
            521 => ECCurve.NamedCurves.nistP521,
            _ => throw new PkiException($"{this}: CertFleet makes EC keys on P-256, P-384 and P-521 only"),
        });
}
