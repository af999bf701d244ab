using System.Globalization;
using System.Text.RegularExpressions;
using CertFleet.Testing;
using CertFleet.Testing.Postgres;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// The fleet's coordinator-group mode: two coordinators on one PostgreSQL database (a private server on 127.0.10.5),
/// "coordinator" on 127.0.10.1 and "coordinator-2" on 127.0.10.2, with a 4 s lease so a failover fits a test. The
/// agents learn both from their join command; <see cref="Cli"/> uses an admin.conf that lists both.
/// </summary>
public sealed partial class LoopbackFleet
{
    /// <summary>The role of the group's second coordinator; the first keeps <see cref="CoordinatorRole"/>.</summary>
    public const string SecondCoordinatorRole = "coordinator-2";

    public static readonly string[] CoordinatorRoles = [CoordinatorRole, SecondCoordinatorRole];

    /// <summary>Short, so a failover takes seconds; the coordinator accepts 2 s at least.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(4);

    private const string DatabaseHost = "127.0.10.5";
    private const string DatabaseName = "certfleet";

    private static readonly HttpClient MetricsClient = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly Dictionary<string, Uri> _metrics = new(StringComparer.Ordinal);
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private PostgresServer? _database;
    private string? _groupAdminConfig;

    /// <summary>A fleet whose coordinators form a group on PostgreSQL (see the class comment).</summary>
    public static Task<LoopbackFleet> StartGroupAsync() => StartAsync(group: true, prepare: null, []);

    public bool IsGroup => _database is not null;

    /// <summary>Runs SQL on the group's database and returns psql's rows (one a line, columns separated by '|').</summary>
    public Task<string> PsqlAsync(string sql) =>
        (_database ?? throw new InvalidOperationException("not a coordinator group")).RunPsqlAsync(DatabaseName, sql);

    /// <summary>The CLI through one coordinator only (its own admin.conf): a standby answers reads while the other is paused.</summary>
    public ProcessResult CliVia(string coordinator, params string[] args) =>
        Programs.Run("certfleet", ["--config", CoordinatorAdminConfig(coordinator), .. args], timeout: TimeSpan.FromMinutes(5));

    /// <summary>
    /// What the coordinator itself says on /metrics (certfleet_coordinator_active): true active, false standby, null
    /// when it does not answer (killed, paused, starting).
    /// </summary>
    public bool? SaysActive(string coordinator)
    {
        if (_paused.Contains(coordinator) || Role(coordinator).Process.HasExited)
        {
            return null;
        }
        try
        {
            var text = MetricsClient.GetStringAsync(_metrics[coordinator]).GetAwaiter().GetResult();
            var value = ActiveGauge().Match(text);
            return value.Success ? double.Parse(value.Groups[1].Value, CultureInfo.InvariantCulture) == 1 : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The coordinator that says it is active, or null when none does now.</summary>
    public string? ActiveCoordinator() => CoordinatorRoles.FirstOrDefault(role => SaysActive(role) == true);

    /// <summary>Waits until a coordinator says it is active and returns it; <paramref name="not"/> is never taken for it.</summary>
    public async Task<string> WaitForActiveAsync(TimeSpan limit, string? not = null)
    {
        string? active = null;
        await WaitUntil(() => (active = CoordinatorRoles.FirstOrDefault(r => r != not && SaysActive(r) == true)) is not null,
            limit, not is null ? "a coordinator to be active" : $"a coordinator other than {not} to be active", TimeSpan.FromMilliseconds(100));
        return active!;
    }

    /// <summary>SIGSTOPs the process of <paramref name="role"/>: it keeps its sockets and its lease row, and answers nothing.</summary>
    public void Pause(string role)
    {
        ProcessRunner.RunChecked("kill", "-STOP", Role(role).Process.Id.ToString(CultureInfo.InvariantCulture));
        _paused.Add(role);
    }

    /// <summary>SIGCONTs a paused process: it carries on from where it stopped, unaware of the time that passed.</summary>
    public void Resume(string role)
    {
        ProcessRunner.RunChecked("kill", "-CONT", Role(role).Process.Id.ToString(CultureInfo.InvariantCulture));
        _paused.Remove(role);
    }

    /// <summary>The log of <paramref name="role"/>'s current process.</summary>
    public string LogOf(string role) => File.ReadAllText(_logs[Role(role).Process]);

    /// <summary>Before the fleet is killed: a process left stopped would hold on to its ports and files until SIGKILL reaches it.</summary>
    private void ResumeEveryPaused()
    {
        foreach (var role in _paused)
        {
            ProcessRunner.Run("kill", ["-CONT", Role(role).Process.Id.ToString(CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(10));
        }
        _paused.Clear();
    }

    private async Task StartCoordinatorGroupAsync()
    {
        _database = await PostgresServer.StartAsync(DatabaseHost);
        var url = await _database.CreateDatabaseAsync(DatabaseName);
        await StartGroupMemberAsync(CoordinatorRole, "127.0.10.1", url);
        await WaitForActiveAsync(TimeSpan.FromSeconds(30));
        // the group's fleet CA: agents trust it, and the database refuses a coordinator with another
        var second = Path.Combine(Directory, SecondCoordinatorRole);
        System.IO.Directory.CreateDirectory(second);
        foreach (var file in new[] { "fleet-ca.crt", "fleet-ca.key" })
        {
            ProcessRunner.RunChecked("cp", "-a", Path.Combine(Directory, CoordinatorRole, file), second);
        }
        await StartGroupMemberAsync(SecondCoordinatorRole, "127.0.10.2", url);
        await WaitUntil(() => SaysActive(SecondCoordinatorRole) == false, TimeSpan.FromSeconds(30), "coordinator-2 to stand by");

        // each coordinator writes an admin.conf naming itself; the CLI takes a comma list of the group
        var urls = string.Join(",", CoordinatorRoles.Select(r => $"https://{_coordinatorListens[r]}"));
        var own = File.ReadAllText(CoordinatorAdminConfig(CoordinatorRole));
        var server = ServerLine().Match(own);
        Assert.True(server.Success, $"no server: line in {CoordinatorAdminConfig(CoordinatorRole)}");
        _groupAdminConfig = Path.Combine(Directory, "admin-group.conf");
        File.WriteAllText(_groupAdminConfig, own.Replace(server.Value, server.Groups[1].Value + urls, StringComparison.Ordinal));
        File.SetUnixFileMode(_groupAdminConfig, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private Task StartGroupMemberAsync(string role, string host, string databaseUrl)
    {
        var metrics = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(host), FreePort(host));
        _metrics[role] = new Uri($"http://{metrics}/metrics");
        return StartCoordinatorAsync(role, host, ["--database", databaseUrl, "--database-password-file", _database!.PasswordFile,
            "--lease-duration", $"{LeaseDuration.TotalSeconds:0}s", "--metrics-listen", metrics.ToString()]);
    }

    [GeneratedRegex(@"^certfleet_coordinator_active(?:\{[^}]*\})? (\S+)$", RegexOptions.Multiline)]
    private static partial Regex ActiveGauge();

    [GeneratedRegex(@"^(\s*server:\s*)\S+$", RegexOptions.Multiline)]
    private static partial Regex ServerLine();
}
