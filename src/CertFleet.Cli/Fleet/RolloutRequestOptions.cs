using System.CommandLine;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Text;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// What to renew across the fleet: `[--all | --expiring-within D] [--ca] [--ca-days N] [--batch N] [--exclude-node N]...`,
/// or a CA re-key (`--rekey-ca [CA]`, <see cref="RekeyOptions"/>); shared by plan and renew.
/// </summary>
/// <param name="startsRollout">for renew, which starts the rollout (plan only shows it)</param>
internal sealed class RolloutRequestOptions(bool startsRollout)
{
    /// <summary>Without --all or --expiring-within, what most expiry alerts call "soon".</summary>
    public static readonly TimeSpan DefaultExpiringWithin = TimeSpan.FromDays(30);

    public Option<bool> All { get; } = new("--all") { Description = "Renew every renewable certificate, whatever its expiry" };

    public Option<TimeSpan?> ExpiringWithin { get; } =
        DurationOption.Create("--expiring-within", $"Renew only certificates expiring within this (default {DurationText.Format(DefaultExpiringWithin)})");

    public Option<bool> Authorities { get; } = new("--ca") { Description = "Renew the CA certificates too (same key), first" };

    public Option<int> AuthorityDays { get; } = DaysOption.Create("--ca-days",
        "Validity of renewed CA certificates (--ca), and of the new ones of a re-key (--rekey-ca), in days", RenewalOptions.DefaultAuthorityValidity);

    public Option<int> Batch { get; } = new("--batch")
    {
        Description = "Workers restarted at a time (default 10 % of them, at least 1)",
        HelpName = "N",
    };

    public Option<string[]> ExcludeNodes { get; } = new("--exclude-node")
    {
        Description = "Leave this node alone: nothing is planned, asked or installed there (repeatable)",
        HelpName = "NODE",
        AllowMultipleArgumentsPerToken = false,
    };

    public RekeyOptions Rekey { get; } = new();

    public void AddTo(Command command, bool withBatch)
    {
        command.Options.Add(All);
        command.Options.Add(ExpiringWithin);
        command.Options.Add(Authorities);
        command.Options.Add(AuthorityDays);
        command.Options.Add(ExcludeNodes);
        if (withBatch)
        {
            command.Options.Add(Batch);
        }
        Rekey.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(All) && result.GetValue(ExpiringWithin) is not null)
            {
                result.AddError("--all and --expiring-within exclude each other: pick one");
            }
            if (withBatch && result.GetValue(Batch) < 0)
            {
                result.AddError("--batch must be 1 or more");
            }
            RekeyRules.Check(result, this, startsRollout);
        });
    }

    /// <summary>The request; with --rekey-ca, the new CA's files are read here (<see cref="RekeyOptions.ToRekeyCa"/>).</summary>
    public RolloutRequest ToRequest(ParseResult parsed) => new()
    {
        ExcludeNodes = { parsed.GetValue(ExcludeNodes) ?? [] },
        All = parsed.GetValue(All),
        ExpiringWithinSeconds = parsed.GetValue(All)
            ? 0
            : (long)(parsed.GetValue(ExpiringWithin) ?? DefaultExpiringWithin).TotalSeconds,
        RenewAuthorities = parsed.GetValue(Authorities),
        AuthorityDays = parsed.GetValue(AuthorityDays),
        BatchSize = parsed.GetValue(Batch),
        RekeyCa = Rekey.ToRekeyCa(parsed, parsed.GetValue(AuthorityDays)),
    };
}
