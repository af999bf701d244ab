using System.Net;
using System.Net.Sockets;
using CertFleet.Testing;
using CertFleet.Testing.Postgres;

namespace CertFleet.Coordinator.Tests.State.Postgres;

/// <summary>
/// The private PostgreSQL server the coordinator's state tests run against: databases on demand, password logins over
/// TCP, the server account and process group, and a stop that frees its port and folder.
/// </summary>
public sealed class PostgresServerTests(PostgresServerFixture fixture) : IClassFixture<PostgresServerFixture>
{
    private PostgresServer Server => fixture.Server;

    [Fact]
    public async Task CreateDatabaseAsync_TwoNamesAtOnce_BothExistAndUrlsHaveNoPassword()
    {
        var urls = await Task.WhenAll(Server.CreateDatabaseAsync("fleet_a"), Server.CreateDatabaseAsync("fleet_b"));

        var databases = Lines(await Server.RunPsqlAsync("postgres", "SELECT datname FROM pg_database ORDER BY datname;"));
        Assert.Contains("fleet_a", databases);
        Assert.Contains("fleet_b", databases);
        Assert.Equal([$"postgresql://certfleet@127.0.0.1:{Server.Port}/fleet_a", $"postgresql://certfleet@127.0.0.1:{Server.Port}/fleet_b"], urls);
        Assert.DoesNotContain(Server.Password, string.Concat(urls), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Psql_OverTcpWithThePasswordFile_LogsInAsTheSuperuser()
    {
        var url = await Server.CreateDatabaseAsync("login_tcp");

        var result = PsqlOverTcp(url, File.ReadAllText(Server.PasswordFile).TrimEnd('\n'),
            "SELECT current_user, current_database(), host(inet_server_addr()), current_setting('password_encryption')");

        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Equal("certfleet|login_tcp|127.0.0.1|scram-sha-256", result.StandardOutput.Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Server.PasswordFile));
    }

    [Theory]
    [InlineData(null, "no password supplied")]
    [InlineData("not-the-password", "password authentication failed")]
    public void Psql_OverTcpWithoutThePassword_Refused(string? password, string expected)
    {
        var result = PsqlOverTcp(Server.ConnectionUrl("postgres"), password, "SELECT 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void StartAsync_AsRoot_ServerRunsAsPostgresInAProcessGroupOfItsOwn()
    {
        var pid = Assert.NotNull(Server.ProcessId);
        var status = File.ReadAllLines($"/proc/{pid}/status");
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // stat: pid (comm) state ppid pgrp ...; comm has no spaces here
        var processGroup = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(pid, processGroup);
        if (Environment.IsPrivilegedProcess)
        {
            var uid = ProcessRunner.RunChecked("id", "-u", "postgres").StandardOutput.Trim();
            Assert.Equal(uid, Assert.Single(status, line => line.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1]);
        }
    }

    [Fact]
    public async Task KillAsyncThenDisposeAsync_OwnServer_RestartKeepsDataThenPortAndFolderFreed()
    {
        var server = await PostgresServer.StartAsync();
        int port = server.Port, pid = server.ProcessId!.Value;
        try
        {
            await server.CreateDatabaseAsync("kept");
            // commits are asynchronous here: a checkpoint puts them on disk before the crash
            await server.RunPsqlAsync("kept", "CREATE TABLE t (v text); INSERT INTO t VALUES ('before the crash'); CHECKPOINT;");
            await server.KillAsync();
            Assert.False(Accepts(port), "a killed server still accepts connections");

            await server.RestartAsync();
            Assert.Equal("before the crash", (await server.RunPsqlAsync("kept", "SELECT v FROM t;")).Trim());
            Assert.Equal(port, server.Port);
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(Accepts(port), "a disposed server still accepts connections");
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Assert.False(Directory.Exists(server.Folder));
        Assert.False(Directory.Exists($"/proc/{pid}"));
        Assert.Null(server.ProcessId);
    }

    [Fact]
    public async Task StartAsync_Default_DurabilityOff()
    {
        var settings = await Server.RunPsqlAsync("postgres", "SHOW fsync; SHOW synchronous_commit; SHOW full_page_writes;");

        Assert.Equal(["off", "off", "off"], Lines(settings));
    }

    [Fact]
    public async Task StartAsync_Durable_DefaultsOnAndACommitSurvivesAKillWithoutCheckpoint()
    {
        var server = await PostgresServer.StartAsync(durable: true);
        try
        {
            var settings = await server.RunPsqlAsync("postgres", "SHOW fsync; SHOW synchronous_commit; SHOW full_page_writes;");
            Assert.Equal(["on", "on", "on"], Lines(settings));

            await server.CreateDatabaseAsync("durable");
            await server.RunPsqlAsync("durable", "CREATE TABLE t (v text); INSERT INTO t VALUES ('committed');");
            await server.KillAsync();
            await server.RestartAsync();

            Assert.Equal("committed", (await server.RunPsqlAsync("durable", "SELECT v FROM t;")).Trim());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static ProcessResult PsqlOverTcp(string url, string? password, string sql)
    {
        // no ~/.pgpass, and an empty PGPASSWORD is none to libpq: only the password given here, if any
        var environment = new Dictionary<string, string> { ["PGPASSFILE"] = "/dev/null", ["PGPASSWORD"] = password ?? "" };
        return ProcessRunner.Run(PostgresBinaries.Psql, ["-X", "-w", "-A", "-t", "-d", url, "-c", sql], environment: environment, timeout: TimeSpan.FromSeconds(30));
    }

    private static bool Accepts(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}
