using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// identity.key (0600, made here and never sent), identity.crt and fleet-ca.crt in the state folder (0700).
/// Each file is written atomically and the certificate last, so a crash never leaves a certificate without its key.
/// A renewed identity is first written beside the live one (identity.next.key, then identity.next.crt) and then
/// renamed into place key first; <see cref="Load"/> finishes a promotion a crash interrupted, so the live pair always
/// matches.
/// </summary>
internal sealed class IdentityStore(string stateDirectory)
{
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string KeyPath => Path.Combine(stateDirectory, "identity.key");

    public string CertificatePath => Path.Combine(stateDirectory, "identity.crt");

    public string FleetCaPath => Path.Combine(stateDirectory, "fleet-ca.crt");

    public string NextKeyPath => Path.Combine(stateDirectory, "identity.next.key");

    public string NextCertificatePath => Path.Combine(stateDirectory, "identity.next.crt");

    public bool Exists => File.Exists(CertificatePath) && File.Exists(KeyPath) && File.Exists(FleetCaPath);

    public AgentIdentity Load()
    {
        CheckModes();
        try
        {
            FinishPromotion();
            var certificate = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
            var fleetCa = X509CertificateLoader.LoadCertificateFromFile(FleetCaPath);
            return new AgentIdentity(certificate, fleetCa);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{stateDirectory}: the agent identity cannot be read ({e.Message}); " +
                "remove identity.* and fleet-ca.crt there and enroll again with a new token", e);
        }
    }

    /// <summary>Makes the folder (0700) and writes the new key; returns it for the CSR.</summary>
    public ECDsa CreateKey()
    {
        Directory.CreateDirectory(stateDirectory, PrivateFolder);
        File.SetUnixFileMode(stateDirectory, PrivateFolder);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        AtomicFile.Replace(KeyPath, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));
        return key;
    }

    /// <summary>A new key for a renewal, beside the live one (the live identity keeps working until the new one is in place).</summary>
    public ECDsa CreateNextKey()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        AtomicFile.Replace(NextKeyPath, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));
        return key;
    }

    /// <summary>Puts the renewed certificate (for the key of <see cref="CreateNextKey"/>) in place of the live identity.</summary>
    public void Promote(byte[] certificateDer)
    {
        AtomicFile.Replace(NextCertificatePath, System.Text.Encoding.ASCII.GetBytes(Pem.Write("CERTIFICATE", certificateDer)));
        FinishPromotion();
    }

    /// <summary>Drops a renewal key whose certificate never came (the renewal failed or was interrupted).</summary>
    public void AbandonNext()
    {
        if (!File.Exists(NextCertificatePath))
        {
            File.Delete(NextKeyPath);
        }
    }

    public void Save(byte[] certificateDer, byte[] fleetCaDer)
    {
        AtomicFile.Replace(FleetCaPath, System.Text.Encoding.ASCII.GetBytes(Pem.Write("CERTIFICATE", fleetCaDer)));
        AtomicFile.Replace(CertificatePath, System.Text.Encoding.ASCII.GetBytes(Pem.Write("CERTIFICATE", certificateDer)));
    }

    // the folder is tightened (a hand-made one may be 0755); a key others could read may already be copied, so say so
    private void CheckModes()
    {
        if (Directory.Exists(stateDirectory) && (File.GetUnixFileMode(stateDirectory) & ~PrivateFolder) != 0)
        {
            File.SetUnixFileMode(stateDirectory, PrivateFolder);
        }
        const UnixFileMode privateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (File.Exists(KeyPath) && (File.GetUnixFileMode(KeyPath) & ~privateFile) != 0)
        {
            throw new PkiException($"{KeyPath}: the agent's identity key is readable by other users; run `chmod 600 {KeyPath}`, "
                + "and if others may have read it, remove the node (`certfleet node remove`) and enroll it again with a new token");
        }
    }

    // identity.next.crt exists only once its key is complete: key renamed first, then the certificate; a crash in
    // between is finished here (identity.key new, identity.crt old, identity.next.crt waiting)
    private void FinishPromotion()
    {
        if (!File.Exists(NextCertificatePath))
        {
            return;
        }
        if (File.Exists(NextKeyPath))
        {
            File.Move(NextKeyPath, KeyPath, overwrite: true);
        }
        File.Move(NextCertificatePath, CertificatePath, overwrite: true);
    }
}
