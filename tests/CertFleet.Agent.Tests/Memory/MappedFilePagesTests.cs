using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Memory;

namespace CertFleet.Agent.Tests.Memory;

/// <summary>Unmapping clean file pages in a live process (this one, other tests running alongside) loses nothing.</summary>
public sealed class MappedFilePagesTests
{
    [Fact]
    public void Release_LiveProcess_LowersResidentFilePagesAndCodeStillRuns()
    {
        var before = StatusKib("RssFile");

        var released = MappedFilePages.Release();

        var after = StatusKib("RssFile");
        Assert.True(released > 0, "no read-only file mapping was released");
        Assert.True(after < before, $"RssFile {before} kB before, {after} kB after");
        // what was unmapped comes back on use: libcrypto and the framework's code sign and verify as before
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=after-release", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        using var reloaded = X509CertificateLoader.LoadCertificate(certificate.RawData);
        Assert.Equal("CN=after-release", reloaded.Subject);
        Assert.True(reloaded.GetECDsaPublicKey()!.VerifyData("data"u8, key.SignData("data"u8, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    private static long StatusKib(string field) =>
        File.ReadLines("/proc/self/status")
            .Where(line => line.StartsWith(field + ":", StringComparison.Ordinal))
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture))
            .Single();
}
