using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// An agent's answer to a CSR request, as the coordinator uses it: the first CSR for each fingerprint it asked for,
/// nothing else. An honest agent sends exactly one per asked fingerprint; duplicates and fingerprints nobody asked for
/// would each cost a signature and an audit row (one answer once caused 20,000 of both), so they are counted, said
/// once, and ignored, while the asked certificates are still renewed.
/// </summary>
internal sealed class CsrAnswer
{
    private CsrAnswer(IReadOnlyDictionary<string, GeneratedCsr> first, int total, int duplicates, int unasked)
    {
        First = first;
        Total = total;
        Duplicates = duplicates;
        Unasked = unasked;
    }

    /// <summary>Asked fingerprint -> the first CSR (or error) the agent sent for it.</summary>
    public IReadOnlyDictionary<string, GeneratedCsr> First { get; }

    public int Total { get; }

    public int Duplicates { get; }

    public int Unasked { get; }

    public static CsrAnswer From(CsrResponse response, IReadOnlyCollection<string> asked)
    {
        ArgumentNullException.ThrowIfNull(response);
        var wanted = asked.ToHashSet(StringComparer.Ordinal);
        var first = new Dictionary<string, GeneratedCsr>(StringComparer.Ordinal);
        var duplicates = 0;
        var unasked = 0;
        foreach (var csr in response.Csrs)
        {
            if (!wanted.Contains(csr.Fingerprint))
            {
                unasked++;
            }
            else if (!first.TryAdd(csr.Fingerprint, csr))
            {
                duplicates++;
            }
        }
        return new CsrAnswer(first, response.Csrs.Count, duplicates, unasked);
    }

    /// <summary>What was ignored, for the audit trail and the step's message; null when the answer was exactly what was asked.</summary>
    public string? IgnoredNote(string node, int askedCount) => Duplicates + Unasked == 0
        ? null
        : $"{node} answered the CSR request for {askedCount} certificate(s) with {Total} CSR(s): {Duplicates} duplicate(s) and "
            + $"{Unasked} for certificates the coordinator did not ask for were ignored; only the first CSR for each asked certificate is signed";
}
