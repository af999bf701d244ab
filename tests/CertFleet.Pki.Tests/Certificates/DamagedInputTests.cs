using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Signing;

namespace CertFleet.Pki.Tests.Certificates;

/// <summary>
/// Damaged files must end in a PkiException the operator can read, never in a crash with a stack trace
/// (an unknown curve once surfaced as PlatformNotSupportedException).
/// </summary>
public sealed class DamagedInputTests(SmallEcPkiFixture pki) : IClassFixture<SmallEcPkiFixture>
{
    private const int Rounds = 3000;

    private string PkiFile(string name) => Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki", name);

    [Fact]
    public void Parse_RandomlyDamagedCertificatesAndRequests_OnlyPkiException()
    {
        var certificate = OpensslScratch.LoadCertificate(PkiFile("apiserver.crt"));
        using var key = OpensslScratch.LoadKey(PkiFile("apiserver.key"));
        var request = CertificateRequestBuilder.FromExistingCertificate(certificate, key);
        var random = new Random(1);

        foreach (var original in new[] { certificate.Der, request })
        {
            for (var i = 0; i < Rounds; i++)
            {
                var damaged = Damage(original, random);
                Ignore(() => CertificateInfo.Parse(damaged, "damaged").IsIssuedBy(certificate));
                Ignore(() => CertificateRequestInfo.Parse(damaged, "damaged"));
            }
        }
    }

    [Fact]
    public void Parse_RandomlyDamagedKeysAndPem_OnlyPkiException()
    {
        var block = Pem.Read(File.ReadAllText(PkiFile("admin.key")), "admin.key").Single();
        var text = File.ReadAllText(PkiFile("admin.crt"));
        var random = new Random(2);

        for (var i = 0; i < Rounds; i++)
        {
            Ignore(() => PrivateKey.Parse(block with { Der = Damage(block.Der, random) }, "damaged"));
            var chars = text.ToCharArray();
            chars[random.Next(chars.Length)] = "-\n:A=/+ "[random.Next(8)];
            Ignore(() => Pem.Read(new string(chars)[..random.Next(chars.Length)], "damaged"));
        }
    }

    private static byte[] Damage(byte[] original, Random random)
    {
        var copy = (byte[])original.Clone();
        for (var j = random.Next(1, 4); j > 0; j--)
        {
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        }
        return random.Next(10) == 0 ? copy[..random.Next(copy.Length)] : copy;
    }

    private static void Ignore(Func<object> parse)
    {
        try
        {
            (parse() as IDisposable)?.Dispose();
        }
        catch (PkiException)
        {
            // the expected outcome for most damaged inputs
        }
    }
}
