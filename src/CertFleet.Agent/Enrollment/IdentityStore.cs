using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// identity.key (0600, made here and never sent), identity.crt and fleet-ca.crt in the state folder (0700).
/// Each file is written atomically and the certificate last, so a crash never leaves a certificate without its key.
/// </summary>
internal sealed class IdentityStore(string stateDirectory)
{
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string KeyPath => Path.Combine(stateDirectory, "identity.key");

    public string CertificatePath => Path.Combine(stateDirectory, "identity.crt");

    public string FleetCaPath => Path.Combine(stateDirectory, "fleet-ca.crt");

    public bool Exists => File.Exists(CertificatePath) && File.Exists(KeyPath) && File.Exists(FleetCaPath);

    public AgentIdentity Load()
    {
        try
        {
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

    public void Save(byte[] certificateDer, byte[] fleetCaDer)
    {
        AtomicFile.Replace(FleetCaPath, System.Text.Encoding.ASCII.GetBytes(Pem.Write("CERTIFICATE", fleetCaDer)));
        AtomicFile.Replace(CertificatePath, System.Text.Encoding.ASCII.GetBytes(Pem.Write("CERTIFICATE", certificateDer)));
    }
}
