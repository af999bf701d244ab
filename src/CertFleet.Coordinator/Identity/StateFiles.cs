using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki;
using CertFleet.Pki.Files;

namespace CertFleet.Coordinator.Identity;

/// <summary>The fleet credentials in the state dir (folder 0700, keys 0600): NAME.crt and NAME.key per credential.</summary>
internal sealed class StateFiles(string folder)
{
    public const string Authority = "fleet-ca";
    public const string Server = "server";
    public const string Admin = "admin";

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode KeyMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string Folder { get; } = Path.GetFullPath(folder);

    public void EnsureFolder()
    {
        try
        {
            if (!Directory.Exists(Folder))
            {
                Directory.CreateDirectory(Folder, FolderMode);
            }
            // a folder made by hand (mkdir with umask 022) would let every local user list and read the state
            if ((File.GetUnixFileMode(Folder) & ~FolderMode) != 0)
            {
                File.SetUnixFileMode(Folder, FolderMode);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"--state-dir {Folder}: cannot be created ({e.Message}); create it (mode 0700) or run as a user who may");
        }
    }

    /// <summary>Loads NAME.crt and NAME.key, or makes and saves them when neither exists.</summary>
    public (X509Certificate2 Certificate, ECDsa Key) LoadOrCreate(string name, Func<(X509Certificate2, ECDsa)> create)
    {
        var (certificatePath, keyPath) = Paths(name);
        var haveCertificate = File.Exists(certificatePath);
        if (haveCertificate != File.Exists(keyPath))
        {
            throw new PkiException($"{Folder}: {(haveCertificate ? certificatePath : keyPath)} exists without its " +
                $"{(haveCertificate ? "key" : "certificate")}; restore the pair from a backup, or remove both to make new ones");
        }
        if (!haveCertificate)
        {
            var created = create();
            Save(name, created.Item1, created.Item2);
            return created;
        }
        if ((File.GetUnixFileMode(keyPath) & ~KeyMode) != 0)
        {
            // someone loosened it: the key may have been read already, so say so instead of quietly fixing it
            throw new PkiException($"{keyPath}: the fleet key is readable by other users (mode {Convert.ToString((int)File.GetUnixFileMode(keyPath), 8)}); "
                + $"run `chmod 600 {keyPath}`, and if others may have read it, make a new state dir and enroll the agents again");
        }
        try
        {
            var certificate = X509CertificateLoader.LoadCertificate(Pem(certificatePath, "CERTIFICATE"));
            var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(keyPath));
            if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new CryptographicException("the key does not belong to the certificate");
            }
            return (certificate, key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{certificatePath} / {keyPath}: cannot be loaded ({e.Message}); restore them from a backup of the state dir");
        }
    }

    public void Save(string name, X509Certificate2 certificate, ECDsa key)
    {
        var (certificatePath, keyPath) = Paths(name);
        // key first: a crash in between leaves a key without a (new) certificate, which the next start reports
        AtomicFile.Replace(keyPath, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
        File.SetUnixFileMode(keyPath, KeyMode);
        AtomicFile.Replace(certificatePath, System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));
    }

    private (string Certificate, string Key) Paths(string name) =>
        (Path.Combine(Folder, name + ".crt"), Path.Combine(Folder, name + ".key"));

    private static byte[] Pem(string path, string label)
    {
        var text = File.ReadAllText(path);
        var fields = PemEncoding.Find(text);
        if (text[fields.Label] != label)
        {
            throw new CryptographicException($"expected a PEM {label}");
        }
        return Convert.FromBase64String(text[fields.Base64Data]);
    }
}
