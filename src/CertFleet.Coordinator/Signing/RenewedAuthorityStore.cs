using System.Security.Cryptography;
using CertFleet.Coordinator.State;
using CertFleet.Pki.Certificates;

namespace CertFleet.Coordinator.Signing;

/// <summary>
/// Cluster CA certificates renewed with their own key, in the state database (table authority_certificates), keyed
/// by the key: every coordinator of a group is given the same CA key files, and each signs with the newest
/// certificate any of them renewed. Only certificates: a CA key never goes into the database.
/// </summary>
internal sealed class RenewedAuthorityStore(StateDatabase database)
{
    /// <summary>The newest certificate renewed for the CA key whose SubjectPublicKeyInfo is <paramref name="subjectPublicKeyInfo"/>, or null.</summary>
    public CertificateInfo? Find(byte[] subjectPublicKeyInfo)
    {
        var keyId = KeyId(subjectPublicKeyInfo);
        using var connection = database.Open();
        return connection.Scalar("SELECT pem FROM authority_certificates WHERE key_id = @key", ("@key", keyId)) is string pem
            ? CertificateInfo.Parse(Pki.PemEncoding.Pem.Read(pem, $"{database.Path} (authority_certificates {keyId})")
                .First(b => b.Label == "CERTIFICATE").Der, $"{database.Path} (authority_certificates {keyId})")
            : null;
    }

    /// <summary>Keeps <paramref name="renewed"/> as its key's certificate (a fenced write: the active coordinator's).</summary>
    public void Save(CertificateInfo renewed)
    {
        ArgumentNullException.ThrowIfNull(renewed);
        database.Execute("""
            INSERT INTO authority_certificates (key_id, pem, not_after, saved_at) VALUES (@key, @pem, @notAfter, @now)
            ON CONFLICT (key_id) DO UPDATE SET pem = excluded.pem, not_after = excluded.not_after, saved_at = excluded.saved_at
            """,
            ("@key", KeyId(renewed.SubjectPublicKeyInfoDer)), ("@pem", renewed.ToPem()), ("@notAfter", renewed.NotAfter), ("@now", DateTimeOffset.UtcNow));
    }

    /// <summary>
    /// Keeps the CA certificates a release before coordinator groups renewed into &lt;state-dir&gt;/authorities/*.crt
    /// (migrate-state: the group's other coordinators have no such folder), each unless a newer one is kept already.
    /// Returns their subjects.
    /// </summary>
    public IReadOnlyList<string> ImportFolder(string stateDirectory)
    {
        var folder = Path.Combine(stateDirectory, "authorities");
        var imported = new List<string>();
        if (!Directory.Exists(folder))
        {
            return imported;
        }
        foreach (var file in Directory.EnumerateFiles(folder, "*.crt").Order(StringComparer.Ordinal))
        {
            var block = Pki.PemEncoding.Pem.Read(File.ReadAllText(file), file).FirstOrDefault(b => b.Label == "CERTIFICATE");
            if (block is null)
            {
                continue;
            }
            var renewed = CertificateInfo.Parse(block.Der, file);
            if (Find(renewed.SubjectPublicKeyInfoDer) is not { } kept || kept.NotAfter < renewed.NotAfter)
            {
                Save(renewed);
                imported.Add(renewed.Subject);
            }
        }
        return imported;
    }

    private static string KeyId(byte[] subjectPublicKeyInfo) => Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));
}
