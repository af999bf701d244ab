using System.Net;
using System.Net.Sockets;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Transfer;
using CertFleet.Coordinator.Tests.State.Postgres;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.State.Transfer;

/// <summary>`certfleet-coordinator migrate-state` through the program's entry, with a private PostgreSQL server.</summary>
public sealed class MigrateStateCommandTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>, IDisposable
{
    private static int _databases;
    private readonly string _scratch = ScratchDirectory.Create("migrate-state");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public async Task RunAsync_StoppedCoordinator_CopiesEveryTablePrintsRowsAndNextStepExitsZero()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        var before = StateFiles.Tables(state.StatePath);
        var url = await NewDatabaseAsync();

        var run = await RunAsync("--state-dir", state.Directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal((ExitCodes.Success, ""), (run.ExitCode, run.Error));
        Assert.False(File.Exists(state.StatePath + "-wal"), "state.db is whole, ready to be copied away as the backup");
        Assert.Contains($"Copied {state.StatePath} into {url}; every table holds the same rows:", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"\n  nodes +2 rows\n", run.Output);
        Assert.Matches(@"\n  audit +4 rows\n", run.Output);
        Assert.Contains($"start certfleet-coordinator with --database {url}", run.Output, StringComparison.Ordinal);
        Assert.Contains("state.db stays as it was, keep it as a backup", run.Output, StringComparison.Ordinal);
        Assert.Contains($"{MovedState.PathIn(state.Directory)} says where the state went", run.Output, StringComparison.Ordinal);
        Assert.Equal(url, MovedState.CopiedTo(state.Directory)?.Split(" on ")[0]);
        using var source = new StateDatabase(state.Directory);
        using var target = PostgresDatabases.Open(postgres.Server, url);
        Assert.Empty(StateTransfer.Differences(source, target));
        Assert.Equal(["master-1", "worker-1"], new NodeStore(target, TimeProvider.System).All().Select(n => n.Name));
        Assert.Equal(before.Keys, StateFiles.Tables(state.StatePath).Keys);
        Assert.Equal(before.Values.Select(t => t.Rows.Count), StateFiles.Tables(state.StatePath).Values.Select(t => t.Rows.Count));
    }

    [Fact]
    public async Task Coordinator_StartedOnAMigratedStateDirWithoutDatabase_ExitTwoSaysWhereTheStateWentAndChangesNothing()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        var url = await NewDatabaseAsync();
        var migrated = await RunAsync("--state-dir", state.Directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);
        Assert.Equal(ExitCodes.Success, migrated.ExitCode);
        var files = FolderSnapshot.Take(state.Directory);
        var caKey = Path.Combine(_scratch, "ca.key");
        var caCert = Path.Combine(_scratch, "ca.crt");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=kubernetes",
            "-days", "3650", "-keyout", caKey, "-out", caCert);

        // the unit's old command line: the same state dir, no --database
        var error = new StringWriter();
        var exitCode = await CoordinatorHost.RunAsync(["--listen", "127.0.91.3:9443", "--state-dir", state.Directory, "--ca-cert", caCert,
            "--ca-key", caKey], TextWriter.Null, error).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        var line = Assert.Single(Lines(error.ToString()));
        Assert.StartsWith($"certfleet-coordinator: {state.StatePath} was copied into {url} on ", line, StringComparison.Ordinal);
        Assert.Contains("start with --database", line, StringComparison.Ordinal);
        Assert.EndsWith($"delete {MovedState.PathIn(state.Directory)}", line, StringComparison.Ordinal);
        Assert.Empty(files.Differences(FolderSnapshot.Take(state.Directory)));
    }

    [Fact]
    public async Task RunAsync_StateDirMigratedBefore_ExitTwoSaysTheGroupsStateIsNewerAndCopiesNothing()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        var first = await NewDatabaseAsync();
        Assert.Equal(ExitCodes.Success, (await RunAsync("--state-dir", state.Directory, "--to", first, "--database-password-file", postgres.Server.PasswordFile)).ExitCode);
        var second = await NewDatabaseAsync();

        var again = await RunAsync("--state-dir", state.Directory, "--to", second, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal(ExitCodes.InvalidInput, again.ExitCode);
        var line = Assert.Single(Lines(again.Error));
        Assert.StartsWith($"certfleet-coordinator migrate-state: {state.StatePath} was copied into {first} on ", line, StringComparison.Ordinal);
        Assert.Contains($"delete {MovedState.PathIn(state.Directory)} and run migrate-state again", line, StringComparison.Ordinal);
        Assert.Equal("0", await Tables(second));
        Assert.StartsWith(first + " on ", MovedState.CopiedTo(state.Directory), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnversionedReleasesState_MigratedLikeAStartThenCopied()
    {
        var directory = StateFiles.StateDirectoryFrom(_scratch, File.ReadAllText(StateFiles.Fixture("unversioned-a6bfb3d.sql")));
        var url = await NewDatabaseAsync();

        var run = await RunAsync("--state-dir", directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal((ExitCodes.Success, ""), (run.ExitCode, run.Error));
        Assert.Contains($"state.db: schema now at version {StateSchema.Latest}", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"\n  audit +88 rows\n", run.Output);
        Assert.Equal(StateSchema.Latest, StateFiles.Scalar(Path.Combine(directory, "state.db"), "PRAGMA user_version"));
    }

    [Fact]
    public async Task RunAsync_RenewedCaFileOfAnOlderRelease_KeptInTheDatabaseForTheWholeGroup()
    {
        var directory = StateFiles.StateDirectoryFrom(_scratch, File.ReadAllText(StateFiles.Fixture("unversioned-a6bfb3d.sql")));
        // as an older release kept a CA certificate it renewed with the same key: <state-dir>/authorities/<key id>.crt
        var authorities = Directory.CreateDirectory(Path.Combine(directory, "authorities")).FullName;
        ProcessRunner.RunChecked("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=kubernetes", "-days", "3650", "-keyout", Path.Combine(_scratch, "ca.key"), "-out", Path.Combine(authorities, "0123456789abcdef.crt"));
        var renewed = CertFleet.Pki.Certificates.CertificateInfo.Parse(
            System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(authorities, "0123456789abcdef.crt"))).RawData, "ca");
        var url = await NewDatabaseAsync();

        var run = await RunAsync("--state-dir", directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal((ExitCodes.Success, ""), (run.ExitCode, run.Error));
        Assert.Contains("renewed CA certificate CN=kubernetes from", run.Output, StringComparison.Ordinal);
        using var target = PostgresDatabases.Open(postgres.Server, url);
        Assert.Equal(renewed.Der, new CertFleet.Coordinator.Signing.RenewedAuthorityStore(target).Find(renewed.SubjectPublicKeyInfoDer)?.Der);
    }

    [Fact]
    public async Task RunAsync_CoordinatorRunsOnTheStateDir_ExitTwoSaysStopItAndChangesNothing()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"), running: true);
        var hash = StateFiles.Hash(state.StatePath);
        var url = await NewDatabaseAsync();

        var run = await RunAsync("--state-dir", state.Directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        var line = Assert.Single(Lines(run.Error));
        Assert.StartsWith($"certfleet-coordinator migrate-state: a coordinator runs on {state.StatePath} ({CoordinatorState.Url} holds its lease until", line, StringComparison.Ordinal);
        Assert.Contains("stop certfleet-coordinator first (systemctl stop certfleet-coordinator)", line, StringComparison.Ordinal);
        Assert.Equal(hash, StateFiles.Hash(state.StatePath));
        Assert.Equal("0", await Tables(url));
        Assert.Equal("", run.Output);
        Assert.Null(MovedState.CopiedTo(state.Directory));
    }

    [Fact]
    public async Task RunAsync_TargetHoldsState_ExitTwoAndAnOldStateDbIsNotEvenMigrated()
    {
        var directory = StateFiles.StateDirectoryFrom(_scratch, File.ReadAllText(StateFiles.Fixture("unversioned-a6bfb3d.sql")));
        var hash = StateFiles.Hash(Path.Combine(directory, "state.db"));
        using var target = await PostgresDatabases.CreateAsync(postgres.Server, "migrate");
        new NodeStore(target, TimeProvider.System).Enroll("other-1", NodeRole.Worker, "01");

        var run = await RunAsync("--state-dir", directory, "--to", target.Path, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.StartsWith($"certfleet-coordinator migrate-state: {target.Path} already holds state (1 nodes)", run.Error, StringComparison.Ordinal);
        Assert.Equal(hash, StateFiles.Hash(Path.Combine(directory, "state.db")));
        Assert.Equal(["other-1"], new NodeStore(target, TimeProvider.System).All().Select(n => n.Name));
    }

    [Fact]
    public async Task RunAsync_WrongPassword_ExitOneOneLineNamingTheDatabaseWithoutTraceOrPassword()
    {
        var directory = StateFiles.StateDirectoryFrom(_scratch, File.ReadAllText(StateFiles.Fixture("unversioned-a6bfb3d.sql")));
        var hash = StateFiles.Hash(Path.Combine(directory, "state.db"));
        var url = await NewDatabaseAsync();
        var wrong = Path.Combine(_scratch, "wrong-password");
        File.WriteAllText(wrong, "not-the-password-7f3a\n");
        File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var run = await RunAsync("--state-dir", directory, "--to", url, "--database-password-file", wrong);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        var line = Assert.Single(Lines(run.Error));
        Assert.StartsWith($"certfleet-coordinator migrate-state: {url}: the server refused the login (password authentication failed", line, StringComparison.Ordinal);
        Assert.Contains("--database-password-file", line, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", run.Error + run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error + run.Output, StringComparison.Ordinal);
        Assert.Equal(hash, StateFiles.Hash(Path.Combine(directory, "state.db")));
    }

    [Fact]
    public async Task RunAsync_ServerUnreachable_ExitOneSaysWhatToCheck()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        var url = $"postgresql://certfleet@127.0.0.1:{ClosedPort()}/certfleet";

        var run = await RunAsync("--state-dir", state.Directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        var line = Assert.Single(Lines(run.Error));
        Assert.StartsWith($"certfleet-coordinator migrate-state: {url}: cannot reach the server (", line, StringComparison.Ordinal);
        Assert.Contains("check that PostgreSQL runs and listens on that host and port", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error + run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DatabaseNotCreated_ExitOneSaysToCreateIt()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        var url = postgres.Server.ConnectionUrl($"never_created_{Environment.ProcessId}");

        var run = await RunAsync("--state-dir", state.Directory, "--to", url, "--database-password-file", postgres.Server.PasswordFile);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.Equal($"certfleet-coordinator migrate-state: {url}: the database does not exist; create it empty (createdb -O USER DB) and run again",
            run.Error.Trim());
    }

    [Fact]
    public async Task RunAsync_StateDirWithoutStateDb_ExitTwoNothingToMigrateAndCreatesNothing()
    {
        var empty = Path.Combine(_scratch, "empty");
        Directory.CreateDirectory(empty);

        var run = await RunAsync("--state-dir", empty, "--to", "postgresql://certfleet@127.0.0.1:5432/certfleet");

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.StartsWith($"certfleet-coordinator migrate-state: {empty} has no state.db: nothing to migrate", run.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(empty));
    }

    [Theory]
    [InlineData("--to", "mysql://certfleet@db.example/certfleet", "--to mysql://certfleet@db.example/certfleet: not a PostgreSQL URL")]
    [InlineData("--to", "postgresql://certfleet:s3cr3t-pw@db.example/certfleet", "--to: the URL holds a password")]
    [InlineData("--listen", "127.0.0.1:7443", "unknown argument '--listen'")]
    [InlineData("--database-password-credential", "db", "--database-password-credential db: $CREDENTIALS_DIRECTORY is not set")]
    public async Task RunAsync_BadArgument_ExitTwoNamingItAndChangesNothing(string option, string value, string problem)
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        var hash = StateFiles.Hash(state.StatePath);
        string[] args = option == "--to"
            ? ["--state-dir", state.Directory, option, value]
            : ["--state-dir", state.Directory, "--to", "postgresql://certfleet@db.example/certfleet", option, value];

        var run = await RunAsync(args);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains($"certfleet-coordinator migrate-state: {problem}", run.Error, StringComparison.Ordinal);
        Assert.EndsWith("Run 'certfleet-coordinator --help' for usage.", run.Error.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-pw", run.Error, StringComparison.Ordinal);
        Assert.Equal(hash, StateFiles.Hash(state.StatePath));
    }

    [Fact]
    public async Task RunAsync_NoOptions_ExitTwoListingEveryMissingOne()
    {
        var run = await RunAsync();

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("certfleet-coordinator migrate-state: --state-dir DIR is missing", run.Error, StringComparison.Ordinal);
        Assert.Contains("certfleet-coordinator migrate-state: --to postgresql://USER@HOST:PORT/DB is missing", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Help_PrintsTheUsageWithMigrateState()
    {
        var run = await RunAsync("--help");

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Contains("certfleet-coordinator migrate-state --state-dir DIR --to postgresql://USER@HOST:PORT/DB", run.Output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await CoordinatorHost.RunAsync([MigrateStateCommandLine.Verb, .. args], output, error).WaitAsync(TimeSpan.FromMinutes(2));
        return (exitCode, output.ToString(), error.ToString());
    }

    private async Task<string> NewDatabaseAsync() =>
        await postgres.Server.CreateDatabaseAsync($"command_{Interlocked.Increment(ref _databases)}_{Environment.ProcessId}");

    /// <summary>How many tables the database at <paramref name="url"/> has: 0 when nothing opened it.</summary>
    private async Task<string> Tables(string url) =>
        (await postgres.Server.RunPsqlAsync(url[(url.LastIndexOf('/') + 1)..],
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public';")).Trim();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
