using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace CertFleet.Testing.Postgres;

/// <summary>
/// A private PostgreSQL server for one test class: its own cluster (initdb) in a scratch folder, listening on
/// <see cref="Host"/>:<see cref="Port"/> and on a unix socket in that folder, started from the test process so it is
/// inside the test's network namespace. TCP logins need the superuser's password (scram-sha-256); psql over the socket
/// is trusted. Durability is off (fsync, full pages, synchronous commit): a test database lives as long as its test;
/// a durable server (the benchmark's, compared with SQLite's fsynced commits) keeps PostgreSQL's defaults for them.
/// Stopped, and its folder removed, when disposed; killed with the test process if that dies first.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(10);

    private readonly bool _durable;
    private Postmaster? _postmaster;

    private PostgresServer(string folder, string host, int port, bool durable)
    {
        Folder = folder;
        Host = host;
        Port = port;
        _durable = durable;
        Password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        PasswordFile = Path.Combine(folder, "password");
        Cluster = Path.Combine(folder, "cluster");
        DataDirectory = Path.Combine(Cluster, "data");
        SocketDirectory = Path.Combine(Cluster, "socket");
    }

    public string Host { get; }

    public int Port { get; private set; }

    /// <summary>The superuser initdb makes; the coordinator logs in as it.</summary>
    public string Superuser => "certfleet";

    public string Password { get; }

    /// <summary>The password as a credential file holds it (mode 0600, a trailing newline); tests give this to the coordinator.</summary>
    public string PasswordFile { get; }

    /// <summary>Where the server's unix socket is (.s.PGSQL.PORT); logins there are trusted.</summary>
    public string SocketDirectory { get; }

    public string DataDirectory { get; }

    /// <summary>The scratch folder with the cluster and the password file, removed on dispose.</summary>
    public string Folder { get; }

    /// <summary>The postmaster's process id (its process group too), or null when it is not running.</summary>
    public int? ProcessId => _postmaster is { HasExited: false } running ? running.ProcessId : null;

    /// <summary>The last lines of the server's log.</summary>
    public string LogTail => _postmaster?.LogTail ?? "";

    /// <summary>Where the cluster is; owned by the server account.</summary>
    private string Cluster { get; }

    /// <param name="host">the address it listens on (a loopback address of the test's namespace)</param>
    /// <param name="port">0 for a free port, chosen now</param>
    /// <param name="durable">true: fsync, full_page_writes and synchronous_commit stay at PostgreSQL's defaults (on), so every
    /// commit waits for its WAL flush as a production server's does; false (tests): all three off</param>
    public static async Task<PostgresServer> StartAsync(string host = "127.0.0.1", int port = 0, bool durable = false)
    {
        var binaries = PostgresBinaries.Directory;
        var server = new PostgresServer(ScratchDirectory.Create("postgres"), host, port, durable);
        try
        {
            server.MakeCluster(binaries);
            await server.ListenAsync(choosePort: port == 0);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Makes an empty database owned by the superuser; returns its URL.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await RunPsqlAsync("postgres", $"CREATE DATABASE {Identifier(name)};");
        return ConnectionUrl(name);
    }

    /// <summary>postgresql://certfleet@HOST:PORT/NAME: no password in it; it is in <see cref="PasswordFile"/>.</summary>
    public string ConnectionUrl(string database)
    {
        var host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        return $"postgresql://{Superuser}@{host}:{Port}/{Identifier(database)}";
    }

    /// <summary>
    /// Runs SQL with psql over the unix socket as the superuser and returns what it printed: rows one a line, columns
    /// separated by '|', no headers (psql -A -t). Throws with psql's message when a statement fails.
    /// </summary>
    public Task<string> RunPsqlAsync(string database, string sql) => Task.Run(() =>
    {
        var result = ProcessRunner.Run(PostgresBinaries.Psql,
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture),
             "-U", Superuser, "-d", database, "-f", "-"],
            standardInput: sql, timeout: TimeSpan.FromSeconds(60), environment: new Dictionary<string, string> { ["PGCLIENTENCODING"] = "UTF8" });
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql on {database} exited {result.ExitCode}: {result.StandardError.Trim()}\nSQL: {sql}");
        }
        return result.StandardOutput;
    });

    /// <summary>Stops the server (fast shutdown: sessions are ended), killing it if it does not stop in time. The data stays.</summary>
    public async Task StopAsync()
    {
        if (_postmaster is not { } postmaster)
        {
            return;
        }
        postmaster.RequestFastShutdown();
        if (!await postmaster.WaitForExitAsync(StopLimit))
        {
            await KillAsync();
        }
    }

    /// <summary>
    /// Kills the server and its backends at once (SIGKILL to its process group), as a crash would. The data stays, but
    /// unless the server is durable (synchronous_commit off) the last ~200 ms of commits may not have reached the WAL:
    /// CHECKPOINT first to keep them.
    /// </summary>
    public async Task KillAsync()
    {
        if (_postmaster is not { } postmaster)
        {
            return;
        }
        postmaster.KillGroup();
        if (!await postmaster.WaitForExitAsync(StopLimit))
        {
            throw new InvalidOperationException($"postgres (pid {postmaster.ProcessId}) still runs {StopLimit.TotalSeconds} s after SIGKILL");
        }
    }

    /// <summary>Starts the stopped or killed server again, with its data, on the same address and port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await ListenAsync(choosePort: false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            ScratchDirectory.Delete(Folder);
        }
    }

    private void MakeCluster(string binaries)
    {
        File.WriteAllText(PasswordFile, Password + "\n");
        File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // the server account only passes through the test's folder to its own
        File.SetUnixFileMode(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(SocketDirectory);
        // initdb reads the password from a file; this copy is the server account's, and goes once it is read
        var initdbPassword = Path.Combine(Cluster, "initdb-password");
        File.WriteAllText(initdbPassword, Password + "\n");
        File.SetUnixFileMode(initdbPassword, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        ServerAccount.Own(Cluster);
        var (fileName, arguments) = ServerAccount.Command(Path.Combine(binaries, "initdb"),
            ["-D", DataDirectory, "-U", Superuser, $"--pwfile={initdbPassword}", "-A", "scram-sha-256", "--auth-local=trust",
             "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"],
            diesWithTest: false);
        var result = ProcessRunner.Run(fileName, arguments, timeout: TimeSpan.FromSeconds(60), workingDirectory: Cluster);
        File.Delete(initdbPassword);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"initdb exited {result.ExitCode} (as {(ServerAccount.IsSwitched ? ServerAccount.DebianUser : "the test's user")}, "
                + $"who must be able to reach {Cluster}): {result.Combined}");
        }
        // initdb lets TCP in from 127.0.0.1 and ::1 only; the tests also use other loopback addresses (127.0.x.y)
        File.AppendAllText(Path.Combine(DataDirectory, "pg_hba.conf"),
            "host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n");
    }

    /// <summary>Starts postgres and waits until it accepts connections; with a chosen port, another try on another port if that one was taken meanwhile.</summary>
    private async Task ListenAsync(bool choosePort)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (choosePort)
            {
                Port = FreePort(Host);
            }
            string[] durability = _durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
            var (fileName, arguments) = ServerAccount.Command(PostgresBinaries.Program("postgres"),
                ["-D", DataDirectory, "-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", SocketDirectory,
                 .. durability, "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
                diesWithTest: true);
            _postmaster = await Postmaster.StartAsync(fileName, arguments, Cluster);
            if (await WaitReadyAsync(_postmaster))
            {
                return;
            }
            var bindFailed = _postmaster.HasExited && _postmaster.LogTail.Contains("Address already in use", StringComparison.Ordinal);
            if (!(choosePort && bindFailed && attempt < 3))
            {
                var log = _postmaster.LogTail;
                await KillAsync();
                throw new InvalidOperationException(
                    $"postgres on {Host}:{Port} did not accept connections within {ReadyLimit.TotalSeconds} s"
                    + (_postmaster.HasExited ? " (it exited)" : "") + $"; its log ends:\n{log}");
            }
        }
    }

    /// <summary>True once pg_isready says the server accepts connections on its TCP address; false if it exits or the wait runs out.</summary>
    private async Task<bool> WaitReadyAsync(Postmaster postmaster)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < ReadyLimit && !postmaster.HasExited)
        {
            var ready = await Task.Run(() => ProcessRunner.Run(PostgresBinaries.Program("pg_isready"),
                ["-q", "-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-t", "1"], timeout: TimeSpan.FromSeconds(10)));
            if (ready.ExitCode == 0)
            {
                return true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
        return false;
    }

    private static int FreePort(string host)
    {
        var address = IPAddress.TryParse(host, out var parsed) ? parsed : Dns.GetHostAddresses(host)[0];
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Names go into SQL and URLs unquoted, so only plain ones.</summary>
    private static string Identifier(string name) => PlainName().IsMatch(name)
        ? name
        : throw new ArgumentException($"database name {name} is not a plain identifier (lower-case letters, digits, _)", nameof(name));

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainName();
}
