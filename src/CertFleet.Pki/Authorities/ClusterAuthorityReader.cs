using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Pki.Authorities;

/// <summary>
/// The one rule set for a --ca-cert/--ca-key pair, wherever it is given (the coordinator, `certfleet renew --local`):
/// no file someone else may replace, a PEM CA certificate, a key that reads (decrypted or opened in its token), and the
/// two belonging together. <see cref="Problems"/> says everything wrong at once (an options check); <see cref="Load"/>
/// returns the pair or throws the first problem.
/// </summary>
public static class ClusterAuthorityReader
{
    /// <summary>Every problem of the pair; none when <see cref="Load"/> would succeed.</summary>
    public static IReadOnlyList<string> Problems(ClusterAuthorityFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var problems = ModeRefusals(files);
        if (problems.Count > 0)
        {
            return problems; // nothing is read from a file someone else may have put there
        }
        var certificate = Try(problems, "--ca-cert", () => ReadCertificate(files.CertificatePath));
        using var key = Try(problems, "--ca-key", () => ClusterAuthorityKey.Read(files));
        if (certificate is not null && key is not null)
        {
            problems.AddRange(Mismatch(files, certificate, key));
        }
        return problems;
    }

    /// <summary>The CA certificate and its key; a <see cref="PkiException"/> naming the file and the fix when they do not do.</summary>
    public static LoadedAuthority Load(ClusterAuthorityFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (ModeRefusals(files) is [var refusal, ..])
        {
            throw new PkiException(refusal);
        }
        var certificate = ReadCertificate(files.CertificatePath);
        var key = ClusterAuthorityKey.Read(files);
        if (Mismatch(files, certificate, key).FirstOrDefault() is { } mismatch)
        {
            key.Dispose();
            throw new PkiException(mismatch);
        }
        return new LoadedAuthority(certificate, key, files);
    }

    /// <summary>What a file others may only read (the key, its passphrase or PIN file) deserves: a warning, not a refusal.</summary>
    public static IEnumerable<string> ReadableSecrets(ClusterAuthorityFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return new[]
        {
            files.KeyIsInToken ? null : SecretFileMode.Warning(files.KeyPath, "--ca-key"),
            files.PassphraseFile is { } passphrase ? SecretFileMode.Warning(passphrase, "the CA key's passphrase file") : null,
            files.PinFile is { } pin ? SecretFileMode.Warning(pin, "the CA key's PIN file") : null,
        }.OfType<string>();
    }

    private static List<string> ModeRefusals(ClusterAuthorityFiles files) => new[]
    {
        files.KeyIsInToken ? null : SecretFileMode.Refusal(files.KeyPath, "--ca-key"),
        files.PassphraseFile is { } passphrase ? SecretFileMode.Refusal(passphrase, "the CA key's passphrase file") : null,
        files.PinFile is { } pin ? SecretFileMode.Refusal(pin, "the CA key's PIN file") : null,
    }.OfType<string>().ToList();

    private static IEnumerable<string> Mismatch(ClusterAuthorityFiles files, CertificateInfo certificate, PrivateKey key)
    {
        if (!certificate.IsCa)
        {
            yield return $"--ca-cert {files.CertificatePath}: '{certificate.Subject}' is not a CA certificate (basicConstraints CA:TRUE); point to the cluster CA";
        }
        if (!key.Matches(certificate))
        {
            yield return $"--ca-key {files.KeyPath} does not match --ca-cert {files.CertificatePath} ('{certificate.Subject}'); give the key that belongs to that certificate";
        }
    }

    /// <summary>The first certificate of a --ca-cert file, which must be a CA.</summary>
    public static CertificateInfo ReadAuthorityCertificate(string path)
    {
        var certificate = ReadCertificate(path);
        return certificate.IsCa
            ? certificate
            : throw new PkiException($"--ca-cert {path}: '{certificate.Subject}' is not a CA certificate (basicConstraints CA:TRUE); point to the cluster CA");
    }

    private static CertificateInfo ReadCertificate(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"--ca-cert {path}: cannot be read ({e.Message}); check the path and that this user may read it", e);
        }
        return Pem.Read(text, path).FirstOrDefault(b => b.Label == "CERTIFICATE") is { } block
            ? CertificateInfo.Parse(block.Der, $"--ca-cert {path}")
            : throw new PkiException($"--ca-cert {path}: holds no PEM CERTIFICATE block; point to the CA certificate file");
    }

    /// <summary>What <paramref name="read"/> gives, or null with its problem added, named by <paramref name="option"/>.</summary>
    private static T? Try<T>(List<string> problems, string option, Func<T> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (PkiException e)
        {
            problems.Add(e.Message.StartsWith("--", StringComparison.Ordinal) ? e.Message : $"{option} {e.Message}");
            return null;
        }
    }
}
