using System.Collections.Frozen;
using System.CommandLine;
using System.CommandLine.Parsing;

namespace CertFleet.Cli.Commands;

/// <summary>
/// The one table of which mode every command works in and every option means something in. A command with the
/// <see cref="LocalSwitch"/> has both modes (--local picks this machine's files); every other command has one. An
/// option given in a mode where it means nothing is refused before anything is read or contacted: an operator who
/// typed it expects it to change what happens, and it would not. The CLI's tests fail when an option or a command
/// exists without its row here.
/// </summary>
internal static class OptionModes
{
    public const string LocalSwitch = "--local";

    /// <summary>Every command by its words after `certfleet` ("" is certfleet itself): the modes it works in.</summary>
    public static readonly FrozenDictionary<string, CommandModes> Commands = new Dictionary<string, CommandModes>
    {
        [""] = CommandModes.Both,
        ["check-expiration"] = CommandModes.Local,
        ["renew"] = CommandModes.Both,
        ["verify"] = CommandModes.Both,
        ["token"] = CommandModes.Fleet,
        ["token create"] = CommandModes.Fleet,
        ["status"] = CommandModes.Fleet,
        ["plan"] = CommandModes.Fleet,
        ["rollout"] = CommandModes.Fleet,
        ["rollout list"] = CommandModes.Fleet,
        ["rollout show"] = CommandModes.Fleet,
        ["rollout resume"] = CommandModes.Fleet,
        ["rollout abort"] = CommandModes.Fleet,
        ["rollback"] = CommandModes.Fleet,
        ["audit"] = CommandModes.Fleet,
        ["node"] = CommandModes.Fleet,
        ["node remove"] = CommandModes.Fleet,
        // the demo runs a sandbox fleet of its own on this machine; admin.conf and a real coordinator play no part
        ["demo"] = CommandModes.Local,
        ["demo unit"] = CommandModes.Local,
        ["demo unit restart"] = CommandModes.Local,
        ["demo unit health"] = CommandModes.Local,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every option of every command (by the command that declares it and the option's name): the modes it means something in.</summary>
    public static readonly FrozenDictionary<(string Command, string Option), CommandModes> Options = new Dictionary<(string, string), CommandModes>
    {
        // program-wide, like $CERTFLEET_CONFIG, which --config stands in for: an alias that always passes it must not
        // break the local commands, and nobody takes it to change what a local command does
        [("", "--config")] = CommandModes.Both,
        [("", "--help")] = CommandModes.Both,
        [("", "--version")] = CommandModes.Both,

        [("check-expiration", "--root")] = CommandModes.Local,
        [("check-expiration", "--output")] = CommandModes.Local,
        [("check-expiration", "--ca-cert")] = CommandModes.Local,

        [("renew", LocalSwitch)] = CommandModes.Both,
        [("renew", "--root")] = CommandModes.Local,
        // CAs from outside the root, for a node's files copied where the CA keys are; the fleet's CAs are the coordinator's
        [("renew", "--ca-cert")] = CommandModes.Local,
        [("renew", "--ca-key")] = CommandModes.Local,
        [("renew", "--ca-key-passphrase-file")] = CommandModes.Local,
        [("renew", "--ca-key-passphrase-credential")] = CommandModes.Local,
        [("renew", "--ca-key-pin-file")] = CommandModes.Local,
        [("renew", "--ca-key-pin-credential")] = CommandModes.Local,
        // the coordinator signs with these validities too (RolloutRequest.leaf_days, authority_days)
        [("renew", "--days")] = CommandModes.Both,
        [("renew", "--ca-days")] = CommandModes.Both,
        [("renew", "--ca")] = CommandModes.Both,
        // with --local: the local plan; without: the fleet's plan, as `certfleet plan` prints it, and no rollout
        [("renew", "--dry-run")] = CommandModes.Both,
        [("renew", "--wait")] = CommandModes.Fleet,
        [("renew", "--all")] = CommandModes.Fleet,
        [("renew", "--expiring-within")] = CommandModes.Fleet,
        [("renew", "--exclude-node")] = CommandModes.Fleet,
        [("renew", "--batch")] = CommandModes.Fleet,
        // every step of the fleet's plan and progress, not the summary a large fleet gets
        [("renew", "--detail")] = CommandModes.Fleet,
        // a CA re-key is the coordinator's rollout: the new CA's key is kept there, and every node takes part
        [("renew", "--rekey-ca")] = CommandModes.Fleet,
        [("renew", "--subject")] = CommandModes.Fleet,
        [("renew", "--key-type")] = CommandModes.Fleet,
        [("renew", "--new-ca-cert")] = CommandModes.Fleet,
        [("renew", "--new-ca-key")] = CommandModes.Fleet,
        [("renew", "--allow-weaker")] = CommandModes.Fleet,
        [("renew", "--stop-after")] = CommandModes.Fleet,

        [("verify", LocalSwitch)] = CommandModes.Both,
        [("verify", "--root")] = CommandModes.Local,
        [("verify", "--ca-cert")] = CommandModes.Local,
        [("verify", "--output")] = CommandModes.Both,
        [("verify", "--warn-within")] = CommandModes.Both,
        [("verify", "--node")] = CommandModes.Fleet,

        [("token create", "--node")] = CommandModes.Fleet,
        [("token create", "--role")] = CommandModes.Fleet,
        [("token create", "--ttl")] = CommandModes.Fleet,
        [("token create", "--print-join-command")] = CommandModes.Fleet,

        [("status", "--output")] = CommandModes.Fleet,

        [("plan", "--all")] = CommandModes.Fleet,
        [("plan", "--expiring-within")] = CommandModes.Fleet,
        [("plan", "--ca")] = CommandModes.Fleet,
        [("plan", "--ca-days")] = CommandModes.Fleet,
        [("plan", "--exclude-node")] = CommandModes.Fleet,
        [("plan", "--batch")] = CommandModes.Fleet,
        [("plan", "--detail")] = CommandModes.Fleet,
        [("plan", "--output")] = CommandModes.Fleet,
        [("plan", "--rekey-ca")] = CommandModes.Fleet,
        [("plan", "--subject")] = CommandModes.Fleet,
        [("plan", "--key-type")] = CommandModes.Fleet,
        [("plan", "--new-ca-cert")] = CommandModes.Fleet,
        [("plan", "--new-ca-key")] = CommandModes.Fleet,
        [("plan", "--allow-weaker")] = CommandModes.Fleet,
        [("plan", "--stop-after")] = CommandModes.Fleet,

        [("rollout list", "--output")] = CommandModes.Fleet,
        [("rollout show", "--output")] = CommandModes.Fleet,
        [("rollout resume", "--output")] = CommandModes.Fleet,
        [("rollout resume", "--skip-node")] = CommandModes.Fleet,
        [("rollout abort", "--output")] = CommandModes.Fleet,

        [("rollback", "--rollout")] = CommandModes.Fleet,
        [("rollback", "--node")] = CommandModes.Fleet,
        [("rollback", "--output")] = CommandModes.Fleet,

        [("audit", "--node")] = CommandModes.Fleet,
        [("audit", "--since")] = CommandModes.Fleet,
        [("audit", "--output")] = CommandModes.Fleet,

        [("demo", "--keep")] = CommandModes.Local,
        [("demo", "--verbose")] = CommandModes.Local,
        [("demo", "--rekey-ca")] = CommandModes.Local,
        [("demo unit restart", "--root")] = CommandModes.Local,
        [("demo unit health", "--root")] = CommandModes.Local,
    }.ToFrozenDictionary();

    /// <summary>Whether <paramref name="command"/> was given --local: a command's own rules for fleet options leave them to <see cref="Refusals"/> then.</summary>
    public static bool IsLocal(CommandResult command) =>
        command.Children.OfType<OptionResult>().Any(r => r.Option.Name == LocalSwitch && !r.Implicit && r.GetValueOrDefault<bool>());

    /// <summary>The words after `certfleet` that name the last of <paramref name="fromRoot"/> (certfleet itself first).</summary>
    public static string PathOf(IEnumerable<Command> fromRoot) => string.Join(' ', fromRoot.Skip(1).Select(c => c.Name));

    /// <summary>One message per option given where it means nothing; none when every option fits the mode.</summary>
    public static IReadOnlyList<string> Refusals(ParseResult parsed)
    {
        var results = Chain(parsed.CommandResult);
        var chain = results.Select(r => r.Command).ToList();
        var path = PathOf(chain);
        var given = results.SelectMany(r => r.Children.OfType<OptionResult>()).Where(r => !r.Implicit).ToList();
        var mode = Commands.GetValueOrDefault(path, CommandModes.Both);
        if (mode == CommandModes.Both)
        {
            mode = given.Any(r => r.Option.Name == LocalSwitch && r.GetValueOrDefault<bool>()) ? CommandModes.Local : CommandModes.Fleet;
        }
        var refusals = new List<string>();
        foreach (var option in given)
        {
            // a recursive option (--config) is declared by an ancestor, whichever command it was given to
            var declaredBy = chain.FindLastIndex(c => c.Options.Contains(option.Option));
            var key = (PathOf(chain.Take(declaredBy + 1)), option.Option.Name);
            if (Options.TryGetValue(key, out var modes) && (modes & mode) == 0)
            {
                refusals.Add(Refusal(path, option.Option.Name, mode));
            }
        }
        return refusals;
    }

    private static string Refusal(string command, string option, CommandModes mode) => mode == CommandModes.Local
        ? $"{command} --local works on this machine's files, where {option} means nothing (it is for the fleet, through the coordinator): drop {option}, or drop --local to {command} the fleet"
        : $"{command} without --local works on the fleet through the coordinator, where {option} means nothing (it is for this machine's files): add --local to {command} this machine's files, or drop {option}";

    /// <summary>The command results from certfleet itself down to <paramref name="leaf"/>.</summary>
    private static List<CommandResult> Chain(CommandResult leaf)
    {
        var chain = new List<CommandResult>();
        for (SymbolResult? result = leaf; result is not null; result = result.Parent)
        {
            if (result is CommandResult command)
            {
                chain.Insert(0, command);
            }
        }
        return chain;
    }
}
