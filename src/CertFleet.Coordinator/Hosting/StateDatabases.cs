using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Engines;

namespace CertFleet.Coordinator.Hosting;

/// <summary>The coordinator's state database as its options say: SQLite in the state dir, or --database's PostgreSQL.</summary>
internal static class StateDatabases
{
    /// <summary>
    /// Pool threads ready at once on PostgreSQL: the stores' calls block a thread for a network round trip each, and a
    /// batch of 2,000 steps otherwise waited for the pool to grow (by about one thread a second when starved).
    /// </summary>
    private const int PostgresMinThreads = 128;

    public static StateDatabase Open(CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Database is not null)
        {
            ThreadPool.GetMinThreads(out var workers, out var completion);
            ThreadPool.SetMinThreads(Math.Max(workers, PostgresMinThreads), completion);
        }
        return options.Database is { } url
            ? new StateDatabase(new PostgresEngine(Postgres(url, options.DatabasePasswordFile, "--database"), options.LeaseDuration))
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
