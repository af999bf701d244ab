using System.Security.Cryptography;

namespace CertFleet.Pki.Keys;

/// <summary>
/// Public keys loaded for signature checks, kept per thread. With OpenSSL 3 underneath, loading a key costs more
/// than the RSA verify itself (about 250 us against 20 us here), and the coordinator checks every renewal against
/// the same few CA keys (and a CSR's key twice: policy, then issuer). Per thread, because an RSA or ECDsa instance
/// is not documented as safe for concurrent use; a check runs synchronously, so no other code holds a cached key.
/// </summary>
internal static class PublicKeyCache
{
    private const int Capacity = 16;

    [ThreadStatic]
    private static List<(byte[] Spki, AsymmetricAlgorithm Key)>? t_keys;

    /// <summary>The key of <paramref name="spki"/>, or null when its type is not supported; owned by the cache, never disposed by callers.</summary>
    public static AsymmetricAlgorithm? Get(ReadOnlySpan<byte> spki)
    {
        var keys = t_keys ??= new List<(byte[], AsymmetricAlgorithm)>(Capacity);
        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i].Spki.AsSpan().SequenceEqual(spki))
            {
                var hit = keys[i];
                keys.RemoveAt(i);
                keys.Insert(0, hit); // most recent first, so the least recent is evicted
                return hit.Key;
            }
        }
        var key = SubjectPublicKey.Load(spki);
        if (key is null)
        {
            return null;
        }
        if (keys.Count == Capacity)
        {
            keys[^1].Key.Dispose();
            keys.RemoveAt(keys.Count - 1);
        }
        keys.Insert(0, (spki.ToArray(), key));
        return key;
    }
}
