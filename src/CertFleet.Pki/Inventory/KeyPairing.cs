using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Inventory;

/// <summary>The key a certificate pairs with, and whether it matches.</summary>
internal sealed record PairedKey(string Path, PrivateKey Key, bool Matches);

/// <summary>
/// Finds each certificate's private key: the key beside it in the same file or kubeconfig entry, the key a
/// kubeconfig names with it, a key with the conventional sibling name (x.crt/x.key, cfssl's x.pem/x-key.pem),
/// or else any key on the node with the same public key. A named or sibling key that does not match is reported as
/// a mismatch (that is the key its service loads), unless it belongs to another certificate of the same file
/// (kubelet.key beside a kubelet.crt holding the leaf and then its CA is the leaf's key, not a wrong key for the CA).
/// </summary>
internal sealed class KeyPairing
{
    private readonly ILookup<string, FoundKey> _byHostPath;
    private readonly Dictionary<string, FoundKey> _byPublicKey = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<KubeconfigFileReference> _kubeconfigReferences;
    private readonly ILookup<string, FoundCertificate> _certificatesByHostPath;

    public KeyPairing(ScanState scan)
    {
        _byHostPath = scan.Keys.ToLookup(k => k.HostPath, StringComparer.Ordinal);
        foreach (var key in scan.Keys)
        {
            _byPublicKey.TryAdd(Convert.ToBase64String(key.Key.SubjectPublicKeyInfoDer), key);
        }
        _kubeconfigReferences = scan.KubeconfigReferences;
        _certificatesByHostPath = scan.Certificates.Where(c => c.Location.Field is null).ToLookup(c => c.File.HostPath, StringComparer.Ordinal);
    }

    public PairedKey? Find(FoundCertificate found)
    {
        // the key the layout pairs with it is the one its service loads: a wrong one there is a mismatch, even when
        // the right key sits elsewhere on the node (in a kubeconfig, say)
        if (NamedKey(found) is { } named)
        {
            return named;
        }
        var byPublicKey = _byPublicKey.GetValueOrDefault(Convert.ToBase64String(found.Certificate.SubjectPublicKeyInfoDer));
        return byPublicKey is null ? null : new PairedKey(byPublicKey.Path, byPublicKey.Key, true);
    }

    /// <summary>The key that the layout says belongs to this certificate, matching or not.</summary>
    private PairedKey? NamedKey(FoundCertificate found)
    {
        var field = found.Location.Field;
        if (field is not null)
        {
            if (!field.IsClientCertificate)
            {
                return null; // certificate-authority-data has no key beside it
            }
            var embedded = _byHostPath[found.File.HostPath].Where(k => k.KubeconfigUser == field.EntryName);
            return Best(embedded, found) ?? FromReference(r => r.KubeconfigHostPath == found.File.HostPath, found);
        }
        return Best(_byHostPath[found.File.HostPath].Where(k => k.KubeconfigUser is null), found)
            ?? FromReference(r => r.CertificateHostPath == found.File.HostPath, found)
            ?? Best(SiblingPaths(found.File.HostPath).SelectMany(p => _byHostPath[p]), found);
    }

    private PairedKey? FromReference(Func<KubeconfigFileReference, bool> predicate, FoundCertificate found)
    {
        var keyPaths = _kubeconfigReferences.Where(predicate).Select(r => r.KeyHostPath).OfType<string>();
        return Best(keyPaths.SelectMany(p => _byHostPath[p]), found);
    }

    private PairedKey? Best(IEnumerable<FoundKey> keys, FoundCertificate found)
    {
        FoundKey? first = null;
        foreach (var key in keys)
        {
            if (key.Key.Matches(found.Certificate))
            {
                return new PairedKey(key.Path, key.Key, true);
            }
            if (found.Location.Field is null && _certificatesByHostPath[found.File.HostPath].Any(other => key.Key.Matches(other.Certificate)))
            {
                continue; // another certificate of this file's key
            }
            first ??= key;
        }
        return first is null ? null : new PairedKey(first.Path, first.Key, false);
    }

    /// <summary>Key file names operators and cfssl use beside a certificate.</summary>
    internal static IEnumerable<string> SiblingPaths(string certificatePath)
    {
        var folder = Path.GetDirectoryName(certificatePath) ?? "/";
        var name = Path.GetFileName(certificatePath);
        var stem = Path.GetFileNameWithoutExtension(name);
        yield return Path.Combine(folder, stem + ".key");
        yield return Path.Combine(folder, stem + "-key.pem");
        yield return Path.Combine(folder, stem + "-key.crt");
        if (stem.EndsWith(".crt", StringComparison.Ordinal) || stem.EndsWith("-cert", StringComparison.Ordinal)
            || stem.EndsWith(".cert", StringComparison.Ordinal))
        {
            var bare = stem[..stem.LastIndexOfAny(['.', '-'])];
            yield return Path.Combine(folder, bare + ".key");
            yield return Path.Combine(folder, bare + "-key.pem");
        }
    }
}
