using CertFleet.Coordinator.State.Engines;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// `certfleet-coordinator migrate-state`'s arguments (after the verb): the state dir, the PostgreSQL URL and the file
/// its password is in. Every problem is listed at once, as the coordinator's own options are. coordinator.conf is not
/// read: the command is run once, by hand, and says exactly what it copies where.
/// </summary>
internal sealed record MigrateStateCommandLine(string StateDirectory, string To, string? PasswordFile, IReadOnlyList<string> Problems, bool HelpRequested)
{
    public const string Verb = "migrate-state";

    private const string StateDirOption = "--state-dir";
    private const string ToOption = "--to";

    private static readonly HashSet<string> ValueOptions = [StateDirOption, ToOption, DatabasePassword.CredentialOption, DatabasePassword.FileOption];

    public static MigrateStateCommandLine Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        var problems = new List<string>();
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var (name, value) = Split(args[i]);
            if (name is "--help" or "-h")
            {
                return new MigrateStateCommandLine("", "", null, [], HelpRequested: true);
            }
            if (!ValueOptions.Contains(name))
            {
                problems.Add($"unknown argument '{args[i]}'; it takes {StateDirOption} DIR --to postgresql://USER@HOST:PORT/DB "
                    + $"and one of {DatabasePassword.CredentialOption} NAME or {DatabasePassword.FileOption} F");
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    problems.Add($"{name} needs a value");
                    continue;
                }
                value = args[++i];
            }
            if (!given.TryAdd(name, value))
            {
                problems.Add($"{name} is given twice; give it once");
            }
        }

        var stateDirectory = given.GetValueOrDefault(StateDirOption, "");
        if (stateDirectory.Length == 0)
        {
            problems.Add($"{StateDirOption} DIR is missing: the stopped coordinator's state dir, whose state.db is copied");
        }
        var to = given.GetValueOrDefault(ToOption, "");
        if (to.Length == 0)
        {
            problems.Add($"{ToOption} postgresql://USER@HOST:PORT/DB is missing: the empty database (made with createdb) to copy into");
        }
        else if (PostgresLocation.TryParse(to, password: null, ToOption, out var problem) is null)
        {
            problems.Add(problem!);
        }
        var passwordFile = DatabasePassword.File(given.GetValueOrDefault(DatabasePassword.CredentialOption),
            given.GetValueOrDefault(DatabasePassword.FileOption), environment, problems);
        return new MigrateStateCommandLine(stateDirectory, to, passwordFile, problems, HelpRequested: false);
    }

    private static (string Name, string? Value) Split(string argument)
    {
        var equals = argument.IndexOf('=', StringComparison.Ordinal);
        return argument.StartsWith("--", StringComparison.Ordinal) && equals > 0
            ? (argument[..equals], argument[(equals + 1)..])
            : (argument, null);
    }
}
