using System.Security.Cryptography.X509Certificates;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// One re-keyed CA of the loopback fleet: the original from before anything ran, the new one as master-1's file holds
/// it after retire (exactly one certificate, not the original). Both files are read by openssl as they are.
/// </summary>
internal sealed record RekeyedAuthority(string Name, string OldFile, string NewFile, X509Certificate2 Old, X509Certificate2 New)
{
    public const string Pki = "/etc/kubernetes/pki";

    /// <summary>The coordinator's cluster CAs in the loopback fleet (its --ca-cert files on master-1).</summary>
    public static readonly string[] Names = ["ca", "front-proxy-ca"];

    public static IReadOnlyList<RekeyedAuthority> ReadAll(LoopbackFleet fleet) => [.. Names.Select(n => Read(fleet, n))];

    private static RekeyedAuthority Read(LoopbackFleet fleet, string name)
    {
        var oldFile = Path.Combine(fleet.Original("master-1") + Pki, name + ".crt");
        var newFile = Path.Combine(fleet.NodeRoot("master-1") + Pki, name + ".crt");
        var held = new X509Certificate2Collection();
        held.ImportFromPemFile(newFile);
        Assert.True(held.Count == 1, $"master-1:{Pki}/{name}.crt holds {held.Count} certificates after the re-key; the new CA alone was expected");
        var old = X509Certificate2.CreateFromPem(File.ReadAllText(oldFile));
        Assert.False(held[0].RawData.AsSpan().SequenceEqual(old.RawData), $"master-1:{Pki}/{name}.crt is still the original {name} certificate");
        Assert.False(SamePublicKey(held[0], old), $"master-1:{Pki}/{name}.crt has a new certificate but the original {name} key");
        return new RekeyedAuthority(name, oldFile, newFile, old, held[0]);
    }

    public static bool SamePublicKey(X509Certificate2 a, X509Certificate2 b) =>
        a.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(b.PublicKey.ExportSubjectPublicKeyInfo());

    /// <summary>openssl's words for the new CA's public key, as `openssl pkey -pubout` prints a private key's.</summary>
    public string NewPublicKeyPem() => Openssl.PublicKey(NewFile);
}
