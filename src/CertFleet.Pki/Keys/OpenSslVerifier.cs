using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace CertFleet.Pki.Keys;

/// <summary>
/// Signature checks through libcrypto's own RSA and EC_KEY objects, the OpenSSL that .NET itself uses. Why: with
/// OpenSSL 3, System.Security.Cryptography loads a public key through OpenSSL's provider decoders, which costs about
/// 95 us for an RSA-2048 key here against 3 us for d2i_RSA_PUBKEY, while the verification itself (about 17 us) is
/// the same code either way. The coordinator checks every renewal request with a key it has never seen (the node's),
/// so that load was a third of a renewal's cost (docs/PERFORMANCE.md). Public keys and public data only: every
/// private-key operation stays in System.Security.Cryptography. Where libcrypto cannot be loaded (another OS, an
/// unexpected OpenSSL), <see cref="Verify"/> answers null and the caller uses System.Security.Cryptography.
/// </summary>
internal static unsafe class OpenSslVerifier
{
    private const int NidSha256 = 672;
    private const int NidSha384 = 673;
    private const int NidSha512 = 674;

    private static readonly Functions? Native = Functions.Load();

    /// <summary>libcrypto was found and has every function used here.</summary>
    internal static bool IsAvailable => Native is not null;

    /// <summary>
    /// True when <paramref name="signature"/> is a valid signature of <paramref name="data"/> by the key of
    /// <paramref name="subjectPublicKeyInfo"/> under <paramref name="algorithm"/>; false when not (or the key does not
    /// parse as the algorithm's key type); null when libcrypto is not usable here.
    /// </summary>
    public static bool? Verify(SignatureAlgorithm algorithm, ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (Native is not { } native)
        {
            return null;
        }
        // a key of another type than the algorithm's (an RSA key for an ECDSA signature) cannot have made it
        var key = RecentKeys<KeyHandle>.Get(subjectPublicKeyInfo, Load);
        if (key is null || key.IsRsa != algorithm.IsRsa)
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[64];
        var hashLength = HashData(algorithm.Hash, data, hash);
        fixed (byte* digest = hash)
        fixed (byte* signatureBytes = signature)
        {
            var handle = key.DangerousGetHandle();
            return Result(native, algorithm.IsRsa
                // RSA_verify compares the whole DigestInfo byte for byte
                ? native.RsaVerify(NidOf(algorithm.Hash), digest, (uint)hashLength, signatureBytes, (uint)signature.Length, handle)
                // a DER signature (RFC 3279), which ECDSA_verify checks is canonical
                : native.EcdsaVerify(0, digest, hashLength, signatureBytes, signature.Length, handle));
        }
    }

    /// <summary>
    /// The libcrypto key of <paramref name="subjectPublicKeyInfo"/>, or null when it is not exactly one RSA or EC key.
    /// Only the key types System.Security.Cryptography would load: d2i_RSA_PUBKEY also takes an RSA-PSS key, which
    /// SubjectPublicKey.Load refuses.
    /// </summary>
    private static KeyHandle? Load(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        var native = Native!;
        var type = SubjectPublicKey.KeyTypeOf(subjectPublicKeyInfo);
        if (type is not (SubjectPublicKey.RsaOid or SubjectPublicKey.EcOid))
        {
            return null;
        }
        var isRsa = type == SubjectPublicKey.RsaOid;
        fixed (byte* spki = subjectPublicKeyInfo)
        {
            var cursor = spki;
            var handle = isRsa
                ? native.D2iRsaPubkey(IntPtr.Zero, &cursor, subjectPublicKeyInfo.Length)
                : native.D2iEcPubkey(IntPtr.Zero, &cursor, subjectPublicKeyInfo.Length);
            if (handle == IntPtr.Zero)
            {
                native.ErrClearError();
                return null;
            }
            var key = new KeyHandle(handle, isRsa);
            if (cursor != spki + subjectPublicKeyInfo.Length)
            {
                key.Dispose(); // bytes after the structure: not one key
                return null;
            }
            return key;
        }
    }

    /// <summary>1 is valid; 0 invalid; -1 an error (a malformed signature), which leaves an entry in OpenSSL's
    /// per-thread error queue that .NET's next call on this thread must not find.</summary>
    private static bool Result(Functions native, int result)
    {
        if (result != 1)
        {
            native.ErrClearError();
        }
        return result == 1;
    }

    private static int HashData(HashAlgorithmName hash, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (hash == HashAlgorithmName.SHA256)
        {
            return SHA256.HashData(data, destination);
        }
        return hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data, destination) : SHA512.HashData(data, destination);
    }

    private static int NidOf(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA256 ? NidSha256 : hash == HashAlgorithmName.SHA384 ? NidSha384 : NidSha512;

    /// <summary>
    /// Owns one RSA or EC_KEY, kept in <see cref="RecentKeys{T}"/>. A SafeHandle, so that the keys of a thread that
    /// ends (the thread pool retires idle threads) are freed by the finalizer instead of leaking for the process's life.
    /// </summary>
    private sealed class KeyHandle : SafeHandle
    {
        public KeyHandle(IntPtr key, bool isRsa) : base(IntPtr.Zero, ownsHandle: true)
        {
            IsRsa = isRsa;
            SetHandle(key);
        }

        public bool IsRsa { get; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            if (IsRsa)
            {
                Native!.RsaFree(handle);
            }
            else
            {
                Native!.EcKeyFree(handle);
            }
            return true;
        }
    }

    /// <summary>The libcrypto entry points, looked up once; null when any is missing.</summary>
    private sealed class Functions
    {
        // OpenSSL 3 first, as .NET prefers it; 1.1 has the same functions with the same signatures
        private static readonly string[] Libraries = ["libcrypto.so.3", "libcrypto.so.1.1"];

        public delegate* unmanaged<IntPtr, byte**, long, IntPtr> D2iRsaPubkey;
        public delegate* unmanaged<int, byte*, uint, byte*, uint, IntPtr, int> RsaVerify;
        public delegate* unmanaged<IntPtr, void> RsaFree;
        public delegate* unmanaged<IntPtr, byte**, long, IntPtr> D2iEcPubkey;
        public delegate* unmanaged<int, byte*, int, byte*, int, IntPtr, int> EcdsaVerify;
        public delegate* unmanaged<IntPtr, void> EcKeyFree;
        public delegate* unmanaged<void> ErrClearError;

        public static Functions? Load()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }
            foreach (var name in Libraries)
            {
                if (!NativeLibrary.TryLoad(name, out var library))
                {
                    continue;
                }
                if (NativeLibrary.TryGetExport(library, "d2i_RSA_PUBKEY", out var d2iRsa)
                    && NativeLibrary.TryGetExport(library, "RSA_verify", out var rsaVerify)
                    && NativeLibrary.TryGetExport(library, "RSA_free", out var rsaFree)
                    && NativeLibrary.TryGetExport(library, "d2i_EC_PUBKEY", out var d2iEc)
                    && NativeLibrary.TryGetExport(library, "ECDSA_verify", out var ecdsaVerify)
                    && NativeLibrary.TryGetExport(library, "EC_KEY_free", out var ecFree)
                    && NativeLibrary.TryGetExport(library, "ERR_clear_error", out var errClear))
                {
                    return new Functions
                    {
                        D2iRsaPubkey = (delegate* unmanaged<IntPtr, byte**, long, IntPtr>)d2iRsa,
                        RsaVerify = (delegate* unmanaged<int, byte*, uint, byte*, uint, IntPtr, int>)rsaVerify,
                        RsaFree = (delegate* unmanaged<IntPtr, void>)rsaFree,
                        D2iEcPubkey = (delegate* unmanaged<IntPtr, byte**, long, IntPtr>)d2iEc,
                        EcdsaVerify = (delegate* unmanaged<int, byte*, int, byte*, int, IntPtr, int>)ecdsaVerify,
                        EcKeyFree = (delegate* unmanaged<IntPtr, void>)ecFree,
                        ErrClearError = (delegate* unmanaged<void>)errClear,
                    };
                }
                NativeLibrary.Free(library);
            }
            return null;
        }
    }
}
