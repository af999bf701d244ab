using System.CommandLine;
using System.CommandLine.Parsing;
using CertFleet.Cli.Commands;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// Which options go with `--rekey-ca`, checked as the command line is parsed (exit 2, nothing read or sent): each
/// option of <see cref="RekeyOptions.OnlyWithRekey"/> needs it; a selection by expiry, by CA renewal or by node means
/// nothing for a re-key, which reaches every leaf of the re-keyed CAs on every node; and a CA made elsewhere is one
/// CA's, with its own subject, key and validity.
/// </summary>
internal static class RekeyRules
{
    /// <param name="startsRollout">renew (a rollout starts), not plan: a re-key asks for --all, as a renewal of everything does</param>
    public static void Check(CommandResult result, RolloutRequestOptions request, bool startsRollout)
    {
        // with --local, OptionModes refuses each of these, saying that they are the fleet's
        if (OptionModes.IsLocal(result))
        {
            return;
        }
        var rekey = request.Rekey;
        if (!rekey.IsGiven(result))
        {
            foreach (var option in rekey.OnlyWithRekey.Where(o => IsGiven(result, o)))
            {
                result.AddError($"{option.Name} needs {RekeyOptions.Name}: it says how a CA is re-keyed; add {RekeyOptions.Name} [CA], or drop {option.Name}");
            }
            return;
        }
        if (IsGiven(result, request.Authorities))
        {
            result.AddError($"{RekeyOptions.Name} and --ca exclude each other: --ca renews the CA certificates with their old keys, "
                + $"{RekeyOptions.Name} gives the CAs new keys and re-issues every leaf they issued; pick one");
        }
        if (IsGiven(result, request.ExpiringWithin))
        {
            result.AddError($"{RekeyOptions.Name} re-issues every leaf of the re-keyed CAs, whatever its expiry: drop --expiring-within");
        }
        if (IsGiven(result, request.ExcludeNodes))
        {
            result.AddError($"{RekeyOptions.Name} reaches every node: a node left out would not trust the new CA, and once the old one "
                + "is retired nothing on it would authenticate; drop --exclude-node");
        }
        if (startsRollout && !result.GetValue(request.All))
        {
            result.AddError($"{result.Command.Name} {RekeyOptions.Name} needs --all: a re-key re-issues every leaf of the re-keyed CAs, "
                + $"on every node; add --all to say so ('certfleet plan {RekeyOptions.Name}' shows what it does)");
        }
        CheckGivenAuthority(result, request);
    }

    /// <summary>--new-ca-cert and --new-ca-key: both or neither, for one named CA, which brings its own subject, key and validity.</summary>
    private static void CheckGivenAuthority(CommandResult result, RolloutRequestOptions request)
    {
        var rekey = request.Rekey;
        var certificate = IsGiven(result, rekey.NewCaCertificate);
        if (certificate != IsGiven(result, rekey.NewCaKey))
        {
            result.AddError("--new-ca-cert and --new-ca-key go together: give both (a CA made elsewhere) or neither (the coordinator makes the new CA)");
        }
        if (!certificate)
        {
            return;
        }
        var names = result.GetValue(rekey.Authorities) ?? [];
        if (names.Length != 1)
        {
            result.AddError(names.Length == 0
                ? $"--new-ca-cert is the new certificate of one CA: name that CA, {RekeyOptions.Name} CA (alone, {RekeyOptions.Name} re-keys every CA)"
                : $"--new-ca-cert is the new certificate of one CA, and {RekeyOptions.Name} names {names.Length} ({string.Join(", ", names)}): "
                    + "re-key them one at a time, or drop --new-ca-cert and --new-ca-key to have the coordinator make each new CA");
        }
        foreach (var (option, why) in new (Option, string)[]
        {
            (rekey.Subject, "the new CA's subject is its certificate's"),
            (rekey.KeyType, "the new CA's key is --new-ca-key"),
            (request.AuthorityDays, "the new CA's validity is its certificate's"),
        })
        {
            if (IsGiven(result, option))
            {
                result.AddError($"{option.Name} means nothing with --new-ca-cert ({why}): drop {option.Name}");
            }
        }
    }

    private static bool IsGiven(CommandResult result, Option option) => result.GetResult(option) is { Implicit: false };
}
