namespace CertFleet.Pki.Keys;

/// <summary>
/// Signatures that verified lately on this thread. One renewal checks the same signatures several times (the
/// policy, then the issuer as its own guard: the certificate against its CA three times, the CSR twice); with ECDSA
/// those repeats cost more than the new certificate's signature. Only successes are kept, compared byte for byte,
/// so the answer is the one a new verification would give.
/// </summary>
internal static class VerifiedSignatures
{
    private const int Capacity = 16;

    [ThreadStatic]
    private static List<Entry>? t_verified;

    public static bool Contains(string algorithmOid, ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (t_verified is not { } verified)
        {
            return false;
        }
        foreach (var entry in verified)
        {
            if (entry.AlgorithmOid == algorithmOid && entry.Signature.AsSpan().SequenceEqual(signature)
                && entry.Data.AsSpan().SequenceEqual(data) && entry.SubjectPublicKeyInfo.AsSpan().SequenceEqual(subjectPublicKeyInfo))
            {
                return true;
            }
        }
        return false;
    }

    public static void Add(string algorithmOid, ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var verified = t_verified ??= new List<Entry>(Capacity);
        if (verified.Count == Capacity)
        {
            verified.RemoveAt(0); // the oldest
        }
        verified.Add(new Entry(algorithmOid, subjectPublicKeyInfo.ToArray(), data.ToArray(), signature.ToArray()));
    }

    private sealed record Entry(string AlgorithmOid, byte[] SubjectPublicKeyInfo, byte[] Data, byte[] Signature);
}
