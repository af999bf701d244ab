using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace CertFleet.Pki.Text;

/// <summary>
/// SHA-256 hashes as operators see and type them (README "Durations and hashes"): <c>sha256:</c> and 64 lowercase hex digits,
/// the form of the join command's <c>--ca-hash</c> (as kubeadm's <c>--discovery-token-ca-cert-hash</c>) and of
/// every certificate fingerprint a message shows. Read back with the prefix in either case or left out (as kubeadm
/// allows), the digits in either case, spaces around ignored. Fingerprints used as keys on the wire and in the
/// state database stay uppercase hex without a prefix (<see cref="Certificates.CertificateInfo.Sha256Fingerprint"/>):
/// those are never typed, and changing them would break a rollout in flight.
/// </summary>
public static class Sha256Text
{
    public const string Prefix = "sha256:";

    /// <summary>What a hash looks like, the end of every error message about one.</summary>
    public const string Grammar = "sha256: followed by 64 hex digits, as `certfleet token create --print-join-command` prints it";

    /// <summary>"sha256:" and the digest's 64 hex digits, lowercase.</summary>
    public static string Format(ReadOnlySpan<byte> digest)
    {
        if (digest.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"a SHA-256 digest has {SHA256.HashSizeInBytes} bytes, not {digest.Length}", nameof(digest));
        }
        return Prefix + Convert.ToHexStringLower(digest);
    }

    /// <summary>
    /// A fingerprint kept as hex (uppercase, no prefix, as on the wire and in the state database) in the form users
    /// see; a value that is not 64 hex digits, as a peer may send, is shown as it is rather than thrown on.
    /// </summary>
    public static string FormatFingerprint(string hexDigest) =>
        hexDigest.Length == SHA256.HashSizeInBytes * 2 && hexDigest.All(char.IsAsciiHexDigit) ? Format(Convert.FromHexString(hexDigest)) : hexDigest;

    /// <summary>Reads <paramref name="text"/>; when it is not a SHA-256 hash, <paramref name="problem"/> says why in a few words.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out byte[]? digest, out string problem)
    {
        digest = null;
        var hex = text?.Trim() ?? "";
        if (hex.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[Prefix.Length..];
        }
        problem = Problem(hex);
        if (problem.Length > 0)
        {
            return false;
        }
        digest = Convert.FromHexString(hex);
        return true;
    }

    /// <summary>
    /// The error an option gives for a value that is not a hash: it names the option, the value, what is wrong and
    /// what a hash looks like.
    /// </summary>
    public static string Error(string option, string? text, string problem) =>
        $"{option} '{text}' is not a SHA-256 hash: {problem}; expected {Grammar}";

    private static string Problem(string hex)
    {
        var colon = hex.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var before = hex[..colon];
            return before.Length > 0 && !before.All(char.IsAsciiHexDigit)
                ? $"'{before}:' is not sha256:, the only hash pinned"
                // AB:CD:... is what `openssl x509 -fingerprint` prints: a hash of the whole certificate, not of its key
                : "colons between the digits are `openssl x509 -fingerprint`'s, a hash of the whole certificate, not of its public key";
        }
        if (hex.Length == 0)
        {
            return "it has no hex digits";
        }
        if (hex.StartsWith("sha256", StringComparison.OrdinalIgnoreCase))
        {
            return "the prefix is sha256: with a colon";
        }
        foreach (var other in hex.Where(c => !char.IsAsciiHexDigit(c)).Take(1))
        {
            return char.IsWhiteSpace(other) ? "it has a space in it" : $"'{other}' is not a hex digit";
        }
        return hex.Length == SHA256.HashSizeInBytes * 2 ? "" : $"{hex.Length} hex digits where a SHA-256 hash has {SHA256.HashSizeInBytes * 2}";
    }
}
