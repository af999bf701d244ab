using System.Globalization;
using System.Runtime.InteropServices;
using CertFleet.Testing.Postgres;

namespace CertFleet.Bench.Fleet;

/// <summary>Where the fleet bench's coordinator keeps its state: SQLite in its state dir, or a PostgreSQL server.</summary>
internal enum FleetEngine
{
    Sqlite,
    Postgresql,
}

/// <summary>
/// The coordinator's state database for one fleet bench: nothing to start for SQLite (the coordinator's default, in
/// its state dir); for PostgreSQL a private server (the tests' <see cref="PostgresServer"/>, started durable: fsync
/// and synchronous commit on, as SQLite's commits are fsynced) with one database, stopped at dispose.
/// </summary>
internal sealed partial class FleetDatabase : IAsyncDisposable
{
    private readonly PostgresServer? _server;

    private FleetDatabase(FleetEngine engine, PostgresServer? server, IReadOnlyList<string> coordinatorArguments)
    {
        Engine = engine;
        _server = server;
        CoordinatorArguments = coordinatorArguments;
    }

    public FleetEngine Engine { get; }

    /// <summary>What the coordinator's command line needs to use this database.</summary>
    public IReadOnlyList<string> CoordinatorArguments { get; }

    /// <summary>The last lines of the PostgreSQL server's log (its folder goes at dispose); empty for SQLite.</summary>
    public string LogTail => _server?.LogTail ?? "";

    public static FleetEngine ParseEngine(string text) => text switch
    {
        "sqlite" => FleetEngine.Sqlite,
        "postgresql" => FleetEngine.Postgresql,
        _ => throw new BenchException($"--engine '{text}': sqlite or postgresql"),
    };

    public static string Name(FleetEngine engine) => engine == FleetEngine.Sqlite ? "sqlite" : "postgresql";

    /// <param name="address">the loopback address the PostgreSQL server listens on (a free port is chosen)</param>
    public static async Task<FleetDatabase> StartAsync(FleetEngine engine, string address)
    {
        if (engine == FleetEngine.Sqlite)
        {
            return new FleetDatabase(engine, server: null, []);
        }
        if (!PostgresBinaries.IsInstalled)
        {
            throw new BenchException("--engine postgresql needs PostgreSQL's server programs (apt-get install postgresql)");
        }
        var server = await PostgresServer.StartAsync(address, durable: true).ConfigureAwait(false);
        try
        {
            var url = await server.CreateDatabaseAsync("certfleet_bench").ConfigureAwait(false);
            return new FleetDatabase(engine, server, ["--database", url, "--database-password-file", server.PasswordFile]);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// CPU seconds the PostgreSQL server used so far (user + system), or null for SQLite (its work is in the
    /// coordinator's own CPU): the postmaster with the children it has reaped (backends of closed connections), and
    /// its living children. By parent, not process group: every child calls setsid() (InitPostmasterChild).
    /// </summary>
    public double? ServerCpuSeconds()
    {
        if (_server?.ProcessId is not { } postmaster)
        {
            return null;
        }
        long ticks = 0;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(folder, "stat"));
            }
            catch (IOException)
            {
                continue; // a process that ended meanwhile
            }
            // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (pid == postmaster || int.Parse(fields[1], CultureInfo.InvariantCulture) == postmaster)
            {
                ticks += fields[11..15].Sum(field => long.Parse(field, CultureInfo.InvariantCulture));
            }
        }
        return ticks / (double)ClockTicksPerSecond();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static long ClockTicksPerSecond()
    {
        const int ScClkTck = 2;
        var ticks = SystemConfiguration(ScClkTck);
        return ticks > 0 ? ticks : 100;
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SystemConfiguration(int name);
}
