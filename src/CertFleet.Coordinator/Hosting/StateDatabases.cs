using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Engines;

namespace CertFleet.Coordinator.Hosting;

/// <summary>The coordinator's state database as its options say: SQLite in the state dir, or --database's PostgreSQL.</summary>
internal static class StateDatabases
{
    public static StateDatabase Open(CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Database is { } url
            ? new StateDatabase(new PostgresEngine(Postgres(url, options.DatabasePasswordFile, "--database")))
            : new StateDatabase(options.StateDirectory);
    }

    /// <summary>The location of <paramref name="url"/> with the password read from <paramref name="passwordFile"/>.</summary>
    public static PostgresLocation Postgres(string url, string? passwordFile, string option)
    {
        var password = passwordFile is null ? null : DatabasePassword.Read(passwordFile);
        return PostgresLocation.TryParse(url, password, option, out var problem)
            ?? throw new CoordinatorOptionsException([problem!]);
    }
}
