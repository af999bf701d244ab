using System.Security.Cryptography;
using System.Text;
using CertFleet.Pki.Text;

namespace CertFleet.Pki.Tests.Text;

/// <summary>The one way the three programs write and read SHA-256 hashes (the join command's --ca-hash, fingerprints in messages).</summary>
public sealed class Sha256TextTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static readonly byte[] Digest = Convert.FromHexString(Hex);

    [Fact]
    public void Format_Digest_PrefixAndLowercaseHex()
    {
        var digest = SHA256.HashData(Encoding.ASCII.GetBytes("certfleet"));

        Assert.Equal("sha256:" + Convert.ToHexString(digest).ToLowerInvariant(), Sha256Text.Format(digest));
    }

    [Fact]
    public void FormatFingerprint_UppercaseHex_SameFormAsADigest()
    {
        Assert.Equal("sha256:" + Hex, Sha256Text.FormatFingerprint(Hex.ToUpperInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ABC")]
    [InlineData("not a fingerprint at all, but 64 characters long, from a peer...")]
    public void FormatFingerprint_NotAFingerprint_ShownAsItIs(string text)
    {
        Assert.Equal(text, Sha256Text.FormatFingerprint(text));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(33)]
    public void Format_NotThirtyTwoBytes_Throws(int length)
    {
        Assert.Throws<ArgumentException>(() => Sha256Text.Format(new byte[length]));
    }

    [Theory]
    [InlineData("sha256:" + Hex)]
    [InlineData("SHA256:" + Hex)] // the prefix in either case, as the agent always read it
    [InlineData("Sha256:" + Hex)]
    [InlineData(Hex)] // without the prefix, as kubeadm allows
    [InlineData("sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")] // the digits in either case
    [InlineData("  sha256:" + Hex + "\n")] // a value from a file or a quoted variable
    public void TryParse_Hash_TheDigest(string text)
    {
        Assert.True(Sha256Text.TryParse(text, out var digest, out var problem), problem);
        Assert.Equal(Digest, digest);
        Assert.Equal("", problem);
    }

    [Fact]
    public void TryParse_WhatFormatWrote_SameDigest()
    {
        var digest = SHA256.HashData("fleet CA"u8);

        Assert.True(Sha256Text.TryParse(Sha256Text.Format(digest), out var back, out _));
        Assert.Equal(digest, back);
    }

    [Theory]
    [InlineData(null, "it has no hex digits")]
    [InlineData("", "it has no hex digits")]
    [InlineData("sha256:", "it has no hex digits")]
    [InlineData("sha256:abc", "3 hex digits where a SHA-256 hash has 64")]
    [InlineData("sha256:" + Hex + "00", "66 hex digits where a SHA-256 hash has 64")]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "'g' is not a hex digit")]
    [InlineData("sha256:0123456789abcdef 0123456789abcdef0123456789abcdef0123456789abcdef", "it has a space in it")]
    [InlineData("md5:" + Hex, "'md5:' is not sha256:, the only hash pinned")]
    [InlineData("sha1:0123456789abcdef0123456789abcdef01234567", "'sha1:' is not sha256:, the only hash pinned")]
    [InlineData("sha512:" + Hex, "'sha512:' is not sha256:, the only hash pinned")]
    [InlineData("sha256 " + Hex, "the prefix is sha256: with a colon")]
    [InlineData("sha256=" + Hex, "the prefix is sha256: with a colon")]
    [InlineData("01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
        "colons between the digits are `openssl x509 -fingerprint`'s, a hash of the whole certificate, not of its public key")]
    [InlineData("sha256:\0" + Hex, "'\0' is not a hex digit")]
    public void TryParse_NotAHash_SaysWhatIsWrong(string? text, string expected)
    {
        Assert.False(Sha256Text.TryParse(text, out var digest, out var problem));
        Assert.Equal(expected, problem);
        Assert.Null(digest);
    }

    [Fact]
    public void Error_AnyProblem_NamesTheOptionTheValueTheProblemAndTheGrammar()
    {
        Sha256Text.TryParse("sha256:abc", out _, out var problem);

        Assert.Equal("--ca-hash 'sha256:abc' is not a SHA-256 hash: 3 hex digits where a SHA-256 hash has 64; "
            + "expected sha256: followed by 64 hex digits, as `certfleet token create --print-join-command` prints it",
            Sha256Text.Error("--ca-hash", "sha256:abc", problem));
    }
}
