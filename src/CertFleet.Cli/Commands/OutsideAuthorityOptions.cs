using System.CommandLine;
using CertFleet.Pki;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Inventory;

namespace CertFleet.Cli.Commands;

/// <summary>
/// `--ca-cert F` (and for `renew --local`, `--ca-key F` with the coordinator's passphrase and PIN options): CAs from
/// outside --root, for a node's files copied to the management host or a master, where the CA keys are. Each
/// --ca-cert pairs with the --ca-key at the same place, as for certfleet-coordinator (<see cref="ClusterAuthorityArguments"/>);
/// the files are checked by the same rules (<see cref="ClusterAuthorityReader"/>) before anything is read under --root.
/// </summary>
internal sealed class OutsideAuthorityOptions
{
    private readonly Option<string[]> _certificates;
    private readonly Option<string[]>[] _keyOptions;

    public OutsideAuthorityOptions(bool withKeys)
    {
        _certificates = Repeatable("--ca-cert", withKeys
            ? "A CA certificate from outside --root, with its --ca-key; repeat the pair for each CA (ca, front-proxy-ca, ...)"
            : "A CA certificate from outside --root that certificates under it may chain to; repeat for each CA");
        _keyOptions = withKeys
            ?
            [
                Repeatable("--ca-key", "The key of the --ca-cert at the same place (a file, or a pkcs11: URI)"),
                Repeatable(ClusterAuthorityArguments.PassphraseFile, "The passphrase of an encrypted --ca-key, from a file (mode 0600); one per key file in order, or one for all"),
                Repeatable(ClusterAuthorityArguments.PassphraseCredential, "The same from the systemd credential $CREDENTIALS_DIRECTORY/NAME", "NAME"),
                Repeatable(ClusterAuthorityArguments.PinFile, "The PIN of a pkcs11: --ca-key, from a file (mode 0600)"),
                Repeatable(ClusterAuthorityArguments.PinCredential, "The same from the systemd credential $CREDENTIALS_DIRECTORY/NAME", "NAME"),
            ]
            : [];
    }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(_certificates);
        foreach (var option in _keyOptions)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The CA certificates given (no keys), checked to be CAs; a <see cref="PkiException"/> names a bad file.</summary>
    public IReadOnlyList<TrustedAuthority> Certificates(ParseResult parsed) =>
        [.. (parsed.GetValue(_certificates) ?? []).Select(path => new TrustedAuthority(ClusterAuthorityReader.ReadAuthorityCertificate(path), path))];

    /// <summary>
    /// The pairs given, each read and checked (a key file others may write, a wrong passphrase, a key of another CA);
    /// every problem at once in a <see cref="PkiException"/>, and nothing is read under --root before.
    /// </summary>
    public IReadOnlyList<LoadedAuthority> Authorities(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var problems = new List<string>();
        var arguments = new ClusterAuthorityArguments();
        foreach (var option in _keyOptions.Prepend(_certificates))
        {
            foreach (var value in parsed.GetValue(option) ?? [])
            {
                arguments.Add(option.Name, value, Environment.GetEnvironmentVariable, problems);
            }
        }
        var pairs = arguments.Pair(problems);
        foreach (var pair in pairs)
        {
            problems.AddRange(ClusterAuthorityReader.Problems(pair));
        }
        if (problems.Count > 0)
        {
            throw new PkiException(string.Join(Environment.NewLine + "certfleet: ", problems));
        }
        return [.. pairs.Select(ClusterAuthorityReader.Load)];
    }

    private static Option<string[]> Repeatable(string name, string description, string helpName = "F") => new(name)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };
}
