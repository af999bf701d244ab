using System.CommandLine;
using System.CommandLine.Parsing;
using CertFleet.Pki;
using CertFleet.Pki.Rekey;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// `--rekey-ca [CA]...` and what says how the new CA is made (--subject, --key-type, --new-ca-cert/--new-ca-key,
/// --allow-weaker) and how far the rollout goes (--stop-after): a CA re-key (RolloutRequest.rekey_ca), for plan and
/// renew. Which of them go together is <see cref="RekeyRules"/>'s; --ca-days is the renewal's, and with --rekey-ca
/// the new CA's validity.
/// </summary>
internal sealed class RekeyOptions
{
    public const string Name = "--rekey-ca";

    /// <summary>The three phases of a re-key in the operator's words, for the help of plan and renew; it ends with a line break.</summary>
    public const string Phases = """
          trust   every place that trusts the CA gets old + new CA (a file that also signs keeps the one matching its key)
          issue   every leaf is re-issued by the new CA with its own key; kube-controller-manager's signing pair is
                  switched to the new CA and key on the masters that hold the old CA key
          retire  the old CA leaves every bundle: what it signed no longer authenticates anywhere
        Each phase restarts services in the runbook's order, gated on health. --stop-after trust|issue halts the
        rollout after that phase; 'certfleet rollout resume ID' goes on.

        """;

    /// <summary>The CA names given, or none for every CA: an option whose value may be left out (<see cref="RekeyAuthorityNames"/>).</summary>
    public Option<string[]> Authorities { get; } = new(Name)
    {
        Description = "Re-key a cluster CA named by its CN (kubernetes-ca), in the three phases above; repeat to name several, "
            + "or give it alone to re-key every CA. Write --rekey-ca CA or --rekey-ca=CA; a word starting with '-' is never "
            + "taken for a CA (--rekey-ca --wait re-keys every CA)",
        HelpName = "CA",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = RekeyAuthorityNames.Parse,
    };

    public Option<string> Subject { get; } = new("--subject")
    {
        Description = "With --rekey-ca: the new CA's subject, as openssl writes one (/CN=kubernetes-ca/O=ops); default: the old CA's subject, byte for byte",
        HelpName = "DN",
        CustomParser = ParseSubject,
    };

    public Option<string> KeyType { get; } = new("--key-type")
    {
        Description = "With --rekey-ca: the new CA's key, rsa:2048, rsa:3072, rsa:4096, ec:P-256, ec:P-384 or ec:P-521; default: the old key's type and size",
        HelpName = "TYPE",
        CustomParser = ParseKeyType,
    };

    public Option<string> NewCaCertificate { get; } = new("--new-ca-cert")
    {
        Description = "With --rekey-ca CA (one CA) and --new-ca-key: a new CA certificate made elsewhere (PEM), instead of one the coordinator makes",
        HelpName = "FILE",
    };

    public Option<string> NewCaKey { get; } = new("--new-ca-key")
    {
        Description = "The key of --new-ca-cert (PEM, not encrypted); sent to the coordinator, which keeps it with its CA keys",
        HelpName = "FILE",
    };

    public Option<bool> AllowWeaker { get; } = new("--allow-weaker")
    {
        Description = "With --rekey-ca: accept a new CA key weaker than the old one (a smaller key or curve), or a --new-ca-cert signed with SHA-1",
    };

    public Option<string> StopAfter { get; } = new("--stop-after")
    {
        Description = "With --rekey-ca: halt the rollout after this phase, to check the fleet; 'certfleet rollout resume ID' goes on",
        HelpName = "trust|issue",
        CustomParser = ParseStopAfter,
    };

    /// <summary>The options that mean something only with --rekey-ca.</summary>
    public IReadOnlyList<Option> OnlyWithRekey => [Subject, KeyType, NewCaCertificate, NewCaKey, AllowWeaker, StopAfter];

    public void AddTo(Command command)
    {
        command.Options.Add(Authorities);
        foreach (var option in OnlyWithRekey)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Whether --rekey-ca was given (with a CA or without).</summary>
    public bool IsGiven(SymbolResult result) => result.GetResult(Authorities) is { Implicit: false };

    /// <summary>
    /// The re-key to ask for, or null without --rekey-ca. Reads the --new-ca-cert/--new-ca-key files: a
    /// <see cref="PkiException"/> names each that will not do, before anything is sent.
    /// </summary>
    public RekeyCa? ToRekeyCa(ParseResult parsed, int authorityDays)
    {
        if (parsed.GetResult(Authorities) is not { Implicit: false })
        {
            return null;
        }
        var rekey = new RekeyCa
        {
            Authorities = { parsed.GetValue(Authorities) ?? [] },
            Subject = parsed.GetValue(Subject) ?? "",
            KeyType = parsed.GetValue(KeyType) ?? "",
            CaDays = authorityDays,
            AllowWeaker = parsed.GetValue(AllowWeaker),
            StopAfter = parsed.GetValue(StopAfter) ?? "",
        };
        if (parsed.GetValue(NewCaCertificate) is { } certificate && parsed.GetValue(NewCaKey) is { } key)
        {
            (rekey.NewCaCertPem, rekey.NewCaKeyPem) = NewAuthorityFiles.Read(certificate, key);
        }
        return rekey;
    }

    private static string? ParseSubject(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (!text.StartsWith('/') || !text.Contains('=', StringComparison.Ordinal))
        {
            result.AddError($"--subject '{text}' is not a subject as openssl writes one; write it as /CN=kubernetes-ca/O=ops "
                + "(without --subject, the new CA keeps the old CA's subject)");
        }
        return text;
    }

    private static string? ParseStopAfter(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (text is not ("trust" or "issue"))
        {
            result.AddError($"--stop-after '{text}' is not a phase to stop after: give trust (before any leaf is re-issued) "
                + "or issue (before the old CA is retired)");
        }
        return text;
    }

    /// <summary>The Pki library's reading of a key type, sent in one spelling (rsa:3072, ec:P-384) whatever the operator's.</summary>
    private static string? ParseKeyType(ArgumentResult result)
    {
        try
        {
            var type = AuthorityKeyType.Parse(result.Tokens.Single().Value);
            return type.IsRsa ? $"rsa:{type.Bits}" : $"ec:P-{type.Bits}";
        }
        catch (PkiException e)
        {
            result.AddError(e.Message);
            return null;
        }
    }
}
