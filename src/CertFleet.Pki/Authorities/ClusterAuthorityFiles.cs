using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Authorities;

/// <summary>
/// A cluster CA to sign with (the coordinator's, or `renew --local --ca-cert/--ca-key` on a node's copied files): a
/// certificate file and its key (e.g. ca and front-proxy-ca), and for an encrypted key the file holding its passphrase
/// (a systemd credential resolves to one under $CREDENTIALS_DIRECTORY).
/// The key is a file, or a `pkcs11:` URI naming a key inside a token (an HSM), whose PIN is in <see cref="PinFile"/>.
/// </summary>
public sealed record ClusterAuthorityFiles(string CertificatePath, string KeyPath, string? PassphraseFile = null, string? PinFile = null)
{
    /// <summary>The key is in a PKCS#11 token, named by a `pkcs11:` URI.</summary>
    public bool KeyIsInToken => Pkcs11KeyUri.IsUri(KeyPath);
}
