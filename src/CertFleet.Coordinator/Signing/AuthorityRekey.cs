using System.Globalization;
using System.Text;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;

namespace CertFleet.Coordinator.Signing;

/// <summary>Where one CA's re-key is, as the coordinator acts on it.</summary>
internal enum RekeyState
{
    /// <summary>The new CA exists and is being trusted; the old one still signs.</summary>
    Trust,

    /// <summary>The new CA signs (issue phase on); the old one is still trusted.</summary>
    Issue,

    /// <summary>The old CA is gone from every bundle; the new one replaces it for good.</summary>
    Retired,
}

/// <summary>One CA being re-keyed by rollout <see cref="RolloutId"/>: its old certificate and its successor (with key).</summary>
internal sealed record AuthorityRekey(string RolloutId, int Index, CertificateInfo Old, CertificateAuthority Successor, RekeyState State)
{
    public bool Replaces(CertificateInfo authority) =>
        Old.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(authority.SubjectPublicKeyInfoDer);
}

/// <summary>
/// The re-keys in the coordinator's state folder, &lt;state-dir&gt;/authorities/rekey/&lt;rollout&gt;/&lt;n&gt;/: old.crt,
/// new.crt, new.key (mode 0600: the database never holds a private key) and state. Each file is written to a temporary
/// and renamed, the key before the certificate and the state last, so a crash leaves either no re-key or a whole one.
/// </summary>
internal static class AuthorityRekeyFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerFolder = OwnerOnly | UnixFileMode.UserExecute;

    public static string Folder(string stateDirectory) => Path.Combine(stateDirectory, "authorities", "rekey");

    public static string FolderOf(string stateDirectory, AuthorityRekey rekey) =>
        Path.Combine(Folder(stateDirectory), rekey.RolloutId, rekey.Index.ToString(CultureInfo.InvariantCulture));

    public static void Save(string stateDirectory, AuthorityRekey rekey, string newKeyPem)
    {
        var folder = FolderOf(stateDirectory, rekey);
        Directory.CreateDirectory(folder, OwnerFolder);
        Write(Path.Combine(folder, "new.key"), newKeyPem, OwnerOnly);
        Write(Path.Combine(folder, "new.crt"), rekey.Successor.Certificate.ToPem(), OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Write(Path.Combine(folder, "old.crt"), rekey.Old.ToPem(), OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        SaveState(stateDirectory, rekey);
    }

    public static void SaveState(string stateDirectory, AuthorityRekey rekey) =>
        Write(Path.Combine(FolderOf(stateDirectory, rekey), "state"), rekey.State.ToString().ToLowerInvariant() + "\n", OwnerOnly);

    /// <summary>Every whole re-key on record (a folder without its state file is a save a crash cut short: left out).</summary>
    public static List<AuthorityRekey> Load(string stateDirectory)
    {
        var found = new List<AuthorityRekey>();
        var root = Folder(stateDirectory);
        if (!Directory.Exists(root))
        {
            return found;
        }
        foreach (var rollout in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            foreach (var folder in Directory.GetDirectories(rollout).Order(StringComparer.Ordinal))
            {
                if (!File.Exists(Path.Combine(folder, "state"))
                    || !int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    continue;
                }
                var state = File.ReadAllText(Path.Combine(folder, "state")).Trim() switch
                {
                    "trust" => RekeyState.Trust,
                    "issue" => RekeyState.Issue,
                    "retired" => RekeyState.Retired,
                    var other => throw new PkiException($"{folder}/state: '{other}' is not a re-key state (trust, issue, retired); restore it from a backup of the state folder"),
                };
                var old = Certificate(Path.Combine(folder, "old.crt"));
                var next = Certificate(Path.Combine(folder, "new.crt"));
                var keyFile = Path.Combine(folder, "new.key");
                var block = Pem.Read(File.ReadAllText(keyFile), keyFile).FirstOrDefault(b => PrivateKey.IsPrivateKeyLabel(b.Label))
                    ?? throw new PkiException($"{keyFile}: no PRIVATE KEY block; the re-keyed CA's key is damaged: restore it from a backup of the state folder");
                var key = PrivateKey.Parse(block, keyFile);
                if (!key.Matches(next))
                {
                    key.Dispose();
                    throw new PkiException($"{keyFile}: does not match {folder}/new.crt; restore both from a backup of the state folder");
                }
                found.Add(new AuthorityRekey(Path.GetFileName(rollout), index, old, new CertificateAuthority(next, key), state));
            }
        }
        return found;
    }

    private static CertificateInfo Certificate(string path) =>
        Pem.Read(File.ReadAllText(path), path).FirstOrDefault(b => b.Label == "CERTIFICATE") is { } block
            ? CertificateInfo.Parse(block.Der, path)
            : throw new PkiException($"{path}: no CERTIFICATE block; restore it from a backup of the state folder");

    private static void Write(string path, string text, UnixFileMode mode)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = mode,
        }))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
