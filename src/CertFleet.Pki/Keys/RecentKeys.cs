namespace CertFleet.Pki.Keys;

/// <summary>Loads the public key of a SubjectPublicKeyInfo, or answers null when it cannot.</summary>
internal delegate T? KeyLoader<T>(ReadOnlySpan<byte> subjectPublicKeyInfo) where T : class;

/// <summary>
/// The public keys loaded lately on this thread, by their SubjectPublicKeyInfo bytes, the most recent first. With
/// OpenSSL 3 underneath, loading a key through .NET costs more than the RSA verify itself (about 95 us against 17),
/// and the coordinator checks every renewal against the same few CA keys. Per thread, because a loaded key (an RSA or
/// ECDsa instance, a libcrypto RSA or EC_KEY) is not documented as safe for concurrent use; a check runs
/// synchronously, so no other code holds a cached key. The keys are owned here: disposed when evicted, or by their
/// finalizers once a retired thread's list is unreachable. Callers never dispose them.
/// </summary>
internal static class RecentKeys<T> where T : class, IDisposable
{
    private const int Capacity = 16;

    [ThreadStatic]
    private static List<(byte[] Spki, T Key)>? t_keys;

    /// <summary>The key of <paramref name="subjectPublicKeyInfo"/>, kept or loaded now; null (and not kept) when <paramref name="load"/> gives none.</summary>
    public static T? Get(ReadOnlySpan<byte> subjectPublicKeyInfo, KeyLoader<T> load)
    {
        var keys = t_keys ??= new List<(byte[], T)>(Capacity);
        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i].Spki.AsSpan().SequenceEqual(subjectPublicKeyInfo))
            {
                var hit = keys[i];
                keys.RemoveAt(i);
                keys.Insert(0, hit); // most recent first, so the least recent is evicted
                return hit.Key;
            }
        }
        var key = load(subjectPublicKeyInfo);
        if (key is null)
        {
            return null;
        }
        if (keys.Count == Capacity)
        {
            keys[^1].Key.Dispose();
            keys.RemoveAt(keys.Count - 1);
        }
        keys.Insert(0, (subjectPublicKeyInfo.ToArray(), key));
        return key;
    }
}
