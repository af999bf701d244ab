using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Tests.Keys;

public sealed class Pkcs11KeyUriTests
{
    [Fact]
    public void Parse_UriAsAnOperatorWritesIt_DecodesTheLabelsAndGivesTheEngineThePrivateKey()
    {
        var uri = Pkcs11KeyUri.Parse("pkcs11:token=Cluster%20CA;object=ca;type=private");

        Assert.Equal("Cluster CA", uri.Token);
        Assert.Equal("ca", uri.Object);
        Assert.Null(uri.ModulePath);
        Assert.Equal("pkcs11:token=Cluster%20CA;object=ca;type=private", uri.EngineUri);
        Assert.Equal("pkcs11:token=Cluster%20CA;object=ca;type=private", uri.ToString());
    }

    [Fact]
    public void Parse_IdAndModulePathQuery_KeepsTheModuleOutOfTheEnginesUri()
    {
        var uri = Pkcs11KeyUri.Parse("pkcs11:token=ca;id=%01?module-path=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so");

        Assert.Null(uri.Object);
        Assert.Equal("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", uri.ModulePath);
        Assert.Equal("pkcs11:token=ca;id=%01;type=private", uri.EngineUri);
    }

    [Theory]
    [InlineData("pkcs11:token=ca;object=ca;pin-value=1234")]
    [InlineData("pkcs11:token=ca;object=ca?pin-source=file:/etc/pin&pin-value=1234")]
    public void Parse_PinInTheUri_RefusedWithoutEchoingTheUri(string text)
    {
        var error = Assert.Throws<PkiException>(() => Pkcs11KeyUri.Parse(text));

        Assert.StartsWith("a pkcs11: --ca-key holds its PIN", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("1234", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pkcs11:object=ca", "pkcs11:object=ca: says no token=")]
    [InlineData("pkcs11:token=ca", "pkcs11:token=ca: says no object= or id=")]
    [InlineData("pkcs11:token=ca;object=ca;type=cert", "pkcs11:token=ca;object=ca;type=cert: type=cert names no private key")]
    public void Parse_UriThatNamesNoPrivateKey_SaysWhatIsMissing(string text, string expected)
    {
        var error = Assert.Throws<PkiException>(() => Pkcs11KeyUri.Parse(text));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }
}
