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
        var problems = new List<string>();
        var options = OptionArguments.Read(args, ValueOptions.Contains,
            argument => $"unknown argument '{argument}'; it takes {StateDirOption} DIR --to postgresql://USER@HOST:PORT/DB "
                + $"and one of {DatabasePassword.CredentialOption} NAME or {DatabasePassword.FileOption} F", problems);
        if (options is null)
        {
            return new MigrateStateCommandLine("", "", null, [], HelpRequested: true);
        }
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in options)
        {
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
}
