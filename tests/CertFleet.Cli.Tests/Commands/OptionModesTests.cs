using System.CommandLine;
using CertFleet.Cli.Commands;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// Every option given in a mode where it means nothing is refused (exit 2, the option, the mode and what to do)
/// before anything is read, changed or contacted; and no option of the real command tree is without its mode.
/// </summary>
public sealed class OptionModesTests(RsaClusterPkiFixture pki, SilentCoordinatorAddress coordinator)
    : IClassFixture<RsaClusterPkiFixture>, IClassFixture<SilentCoordinatorAddress>
{
    /// <summary>Every (command, option) the table makes wrong in one of the command's two modes, with a value that parses.</summary>
    public static readonly TheoryData<string, string, string?, bool> WrongModePairs = new()
    {
        // command, option, its value (null: a switch), given with --local
        { "renew", "--all", null, true },
        { "renew", "--expiring-within", "7d", true },
        { "renew", "--exclude-node", "worker-1", true },
        { "renew", "--batch", "2", true },
        { "renew", "--wait", null, true },
        { "renew", "--detail", null, true },
        { "renew", "--rekey-ca", null, true },
        { "renew", "--subject", "/CN=kubernetes-ca", true },
        { "renew", "--key-type", "ec:P-384", true },
        { "renew", "--new-ca-cert", "/etc/certfleet/new-ca.crt", true },
        { "renew", "--new-ca-key", "/etc/certfleet/new-ca.key", true },
        { "renew", "--allow-weaker", null, true },
        { "renew", "--stop-after", "trust", true },
        { "verify", "--node", "master-1", true },
        { "renew", "--root", "ROOT", false },
        { "verify", "--root", "ROOT", false },
        { "verify", "--ca-cert", "/etc/kubernetes/pki/ca.crt", false },
        { "renew", "--ca-cert", "/etc/kubernetes/pki/ca.crt", false },
        { "renew", "--ca-key", "/etc/kubernetes/pki/ca.key", false },
        { "renew", "--ca-key-passphrase-file", "/etc/certfleet/ca.pass", false },
        { "renew", "--ca-key-passphrase-credential", "ca-pass", false },
        { "renew", "--ca-key-pin-file", "/etc/certfleet/ca.pin", false },
        { "renew", "--ca-key-pin-credential", "ca-pin", false },
    };

    [Theory]
    [MemberData(nameof(WrongModePairs))]
    public void Command_OptionOfTheOtherMode_ExitsTwoNamingOptionAndModeAndTouchesNothing(string command, string option, string? value, bool local)
    {
        var root = pki.CopyNode("master-1");
        var before = FolderSnapshot.Take(root);
        var connections = coordinator.Connections;
        // --config is the silent coordinator's in both modes: a command that went ahead would connect to it
        List<string> args = ["--config", coordinator.Config, command];
        if (local)
        {
            args.AddRange(["--local", "--root", root]);
        }
        args.Add(option);
        if (value is not null)
        {
            args.Add(value == "ROOT" ? root : value);
        }

        var (exitCode, output, error) = CliRun.Invoke([.. args]);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains(local ? $"{command} --local works on this machine's files, where {option} means nothing" : $"{command} without --local works on the fleet through the coordinator, where {option} means nothing", error, StringComparison.Ordinal);
        Assert.Contains(local ? $"drop {option}, or drop --local" : $"add --local to {command} this machine's files, or drop {option}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
        Assert.Equal(connections, coordinator.Connections);
    }

    [Fact]
    public void WrongModePairs_AreEveryPairTheTableRefuses()
    {
        // a new one-mode option on a two-mode command needs its line in WrongModePairs, and so a test that it is refused
        var refused = OptionModes.Options
            .Where(o => OptionModes.Commands[o.Key.Command] == CommandModes.Both && o.Value != CommandModes.Both)
            .Select(o => $"{o.Key.Command} {o.Key.Option} {(o.Value == CommandModes.Fleet ? "with" : "without")} --local")
            .Order(StringComparer.Ordinal);
        var tested = WrongModePairs
            .Select(p => $"{p[0]} {p[1]} {((bool)p[3] ? "with" : "without")} --local")
            .Order(StringComparer.Ordinal);

        Assert.Equal(refused, tested);
    }

    [Fact]
    public void Table_EveryCommandAndOptionOfTheRealCommandTree_HasItsModeAndNoRowIsStale()
    {
        var tree = CertFleetCli.Create(new CliContext(TimeProvider.System, TextWriter.Null, TextWriter.Null));
        var problems = new List<string>();
        var commands = new HashSet<string>(StringComparer.Ordinal);
        var options = new HashSet<(string, string)>();

        void Walk(List<Command> chain)
        {
            var command = chain[^1];
            var path = OptionModes.PathOf(chain);
            commands.Add(path);
            if (!OptionModes.Commands.TryGetValue(path, out var mode))
            {
                problems.Add($"command 'certfleet {path}' has no mode in OptionModes.Commands");
                mode = CommandModes.Both;
            }
            var hasSwitch = command.Options.Any(o => o.Name == OptionModes.LocalSwitch);
            if (path.Length > 0 && hasSwitch != (mode == CommandModes.Both))
            {
                problems.Add($"'certfleet {path}': a command has both modes exactly when it has {OptionModes.LocalSwitch}");
            }
            foreach (var option in command.Options)
            {
                options.Add((path, option.Name));
                if (!OptionModes.Options.TryGetValue((path, option.Name), out var modes))
                {
                    problems.Add($"'certfleet {path}' {option.Name} has no mode in OptionModes.Options");
                }
                else if ((modes & mode) == 0)
                {
                    problems.Add($"'certfleet {path}' {option.Name} is declared for a mode the command does not have: it would always be refused");
                }
            }
            foreach (var subcommand in command.Subcommands)
            {
                Walk([.. chain, subcommand]);
            }
        }
        Walk([tree]);

        Assert.Empty(problems);
        Assert.Empty(OptionModes.Commands.Keys.Where(c => !commands.Contains(c)));
        Assert.Empty(OptionModes.Options.Keys.Where(o => !options.Contains(o)));
    }

    [Fact]
    public void Renew_FleetOptionsWithLocalAndHelp_ShowsTheHelpInstead()
    {
        var (exitCode, output, _) = CliRun.Invoke("renew", "--local", "--batch", "2", "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("--dry-run", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_LocalWithOptionsOfBothModes_IsNotRefused()
    {
        var root = pki.CopyNode("worker-1");

        var (exitCode, output, error) = CliRun.Invoke("--config", coordinator.Config, "renew", "--local", "--root", root,
            "--ca", "--days", "90", "--ca-days", "3650", "--dry-run");

        Assert.True(exitCode == 0, error);
        Assert.Contains("Dry run: nothing was changed.", output, StringComparison.Ordinal);
    }
}
