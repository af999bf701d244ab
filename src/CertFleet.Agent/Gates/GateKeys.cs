using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Gates;

/// <summary>
/// The throwaway keys of re-key gates, in memory only and one per gate step: made when the coordinator asks for the
/// probe CSR, taken by the gate that uses them. An agent restart loses them (the gate then fails and is sent again).
/// </summary>
internal sealed class GateKeys : IDisposable
{
    private const int MaxKept = 8;

    private readonly Lock _gate = new();
    private readonly List<(string StepId, ECDsa Key)> _keys = [];

    /// <summary>A new key for <paramref name="stepId"/> and a CSR from it (CN certfleet:gate-probe).</summary>
    public byte[] MakeCsr(string stepId)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        lock (_gate)
        {
            foreach (var earlier in _keys.Where(k => k.StepId == stepId).ToList())
            {
                earlier.Key.Dispose();
                _keys.Remove(earlier);
            }
            _keys.Add((stepId, key));
            while (_keys.Count > MaxKept)
            {
                _keys[0].Key.Dispose();
                _keys.RemoveAt(0);
            }
        }
        return new CertificateRequest("CN=certfleet:gate-probe", key, HashAlgorithmName.SHA256).CreateSigningRequest();
    }

    /// <summary>The key made for <paramref name="stepId"/>, now the caller's; null when there is none (the agent restarted).</summary>
    public ECDsa? Take(string stepId)
    {
        lock (_gate)
        {
            var index = _keys.FindIndex(k => k.StepId == stepId);
            if (index < 0)
            {
                return null;
            }
            var key = _keys[index].Key;
            _keys.RemoveAt(index);
            return key;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _keys.ForEach(k => k.Key.Dispose());
            _keys.Clear();
        }
    }
}
