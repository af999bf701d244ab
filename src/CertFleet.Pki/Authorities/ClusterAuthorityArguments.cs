using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Authorities;

/// <summary>
/// The --ca-cert/--ca-key pairs and their secrets as an operator gives them, the same for the coordinator and for
/// `certfleet renew --local`: each --ca-cert with the --ca-key at the same place; passphrases
/// (--ca-key-passphrase-file/-credential) go with the key files in order, PINs (--ca-key-pin-file/-credential) with the
/// `pkcs11:` keys, so one list never shifts the other; one secret alone serves every key of its kind.
/// </summary>
public sealed class ClusterAuthorityArguments
{
    public const string PassphraseCredential = "--ca-key-passphrase-credential";
    public const string PassphraseFile = "--ca-key-passphrase-file";
    public const string PinCredential = "--ca-key-pin-credential";
    public const string PinFile = "--ca-key-pin-file";

    private readonly List<string> _certificates = [];
    private readonly List<string> _keys = [];
    private readonly List<string> _passphrases = [];
    private readonly List<string> _pins = [];

    /// <summary>Takes one option's value in the order given; false for an option that is not one of these.</summary>
    /// <param name="environment">where $CREDENTIALS_DIRECTORY comes from, for the -credential options</param>
    public bool Add(string option, string value, Func<string, string?> environment, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        switch (option)
        {
            case "--ca-cert":
                _certificates.Add(value);
                return true;
            case "--ca-key":
                _keys.Add(value);
                return true;
            case PassphraseFile:
                _passphrases.Add(value);
                return true;
            case PinFile:
                _pins.Add(value);
                return true;
            case PassphraseCredential or PinCredential:
                if (SystemdCredential.Resolve(option, value, environment, out var problem) is { } path)
                {
                    (option == PinCredential ? _pins : _passphrases).Add(path);
                }
                else
                {
                    problems.Add(problem!);
                }
                return true;
            default:
                return false;
        }
    }

    /// <summary>The pairs; what does not pair is added to <paramref name="problems"/>.</summary>
    public IReadOnlyList<ClusterAuthorityFiles> Pair(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var authorities = new List<ClusterAuthorityFiles>();
        var fileKeys = _keys.Where(k => !Pkcs11KeyUri.IsUri(k)).ToList();
        var tokenKeys = _keys.Where(Pkcs11KeyUri.IsUri).ToList();
        for (var i = 0; i < Math.Max(_certificates.Count, _keys.Count); i++)
        {
            if (i >= _keys.Count)
            {
                problems.Add($"--ca-cert {_certificates[i]} has no --ca-key; give each CA certificate with its key (--ca-cert F --ca-key F)");
            }
            else if (i >= _certificates.Count)
            {
                problems.Add($"--ca-key {_keys[i]} has no --ca-cert; give each CA key with its certificate (--ca-cert F --ca-key F)");
            }
            else
            {
                var isToken = Pkcs11KeyUri.IsUri(_keys[i]);
                var ofItsKind = _keys.Take(i).Count(k => Pkcs11KeyUri.IsUri(k) == isToken);
                var secret = Nth(isToken ? _pins : _passphrases, ofItsKind);
                authorities.Add(new ClusterAuthorityFiles(_certificates[i], _keys[i], isToken ? null : secret, isToken ? secret : null));
            }
        }
        if (_passphrases.Count > 1 && _passphrases.Count != fileKeys.Count)
        {
            problems.Add($"{_passphrases.Count} CA key passphrases for {fileKeys.Count} --ca-key files; give one per --ca-key file, in the same order, or a single one for all");
        }
        if (_pins.Count > 1 && _pins.Count != tokenKeys.Count)
        {
            problems.Add($"{_pins.Count} PINs for {tokenKeys.Count} pkcs11: --ca-key; give one per pkcs11: key, in the same order, or a single one for all");
        }
        if (_pins.Count > 0 && tokenKeys.Count == 0)
        {
            problems.Add($"{PinCredential}/{PinFile} give the PIN of a pkcs11: --ca-key, and there is none; for an encrypted key file use {PassphraseCredential}/{PassphraseFile}");
        }
        if (_passphrases.Count > 0 && fileKeys.Count == 0 && tokenKeys.Count > 0)
        {
            problems.Add($"{PassphraseCredential}/{PassphraseFile} decrypt a --ca-key file, and every --ca-key is in a token; give the token's PIN with {PinCredential}/{PinFile}");
        }
        return authorities;
    }

    /// <summary>The one secret for the n-th key of its kind: the only one given, or the n-th; null when none.</summary>
    private static string? Nth(List<string> secrets, int index) => secrets.Count switch
    {
        0 => null,
        1 => secrets[0],
        _ => index < secrets.Count ? secrets[index] : null,
    };
}
