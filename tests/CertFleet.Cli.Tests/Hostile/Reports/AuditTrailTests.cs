using System.Text.Json;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Hostile.Reports;

/// <summary>
/// `certfleet audit` against a real coordinator on 127.0.131.4 whose trail holds what a hostile caller could put there:
/// one row larger than a gRPC message, and more rows than one answer holds. Every row is shown, the huge one cut
/// visibly.
/// </summary>
public sealed class AuditTrailTests : IAsyncLifetime
{
    private const int NineMegabytes = 9 * 1024 * 1024;
    private readonly string _state = ScratchDirectory.Create("audit-trail");
    private WebApplication _coordinator = null!;

    private string Config => Path.Combine(_state, "admin.conf");

    private AuditLog Audit => _coordinator.Services.GetRequiredService<AuditLog>();

    public async Task InitializeAsync()
    {
        _coordinator = CoordinatorHost.Build(new CoordinatorOptions { Listen = "127.0.131.4:7443", StateDirectory = _state, ClusterAuthorities = [] });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _coordinator.StartAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _coordinator.StopAsync(timeout.Token);
        await _coordinator.DisposeAsync();
        SqliteConnection.ClearAllPools();
        ScratchDirectory.Delete(_state);
    }

    [Fact]
    public void Audit_RowLargerThanAMessage_EveryRowShownTheHugeOneTruncatedVisibly()
    {
        Audit.Append(new AuditRecord(AuditKinds.EnrollmentRefused, "agent:?") { Node = new string('n', NineMegabytes), Reason = new string('r', NineMegabytes) });
        Audit.Append(new AuditRecord(AuditKinds.TokenCreated, "admin") { Node = "worker-after" });

        var table = CliRun.Invoke("--config", Config, "audit");
        var json = CliRun.Invoke("--config", Config, "audit", "-o", "json");

        Assert.True(table.ExitCode == 0, table.Error);
        Assert.Contains($"... (truncated, {NineMegabytes} bytes)", table.Output, StringComparison.Ordinal);
        Assert.Contains("worker-after", table.Output, StringComparison.Ordinal);
        Assert.True(table.Output.Length < 1024 * 1024, $"the table is {table.Output.Length} characters");
        Assert.True(json.ExitCode == 0, json.Error);
        var events = JsonDocument.Parse(json.Output).RootElement.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["enrollment-refused", "token-created"], events.Select(e => e.GetProperty("kind").GetString()));
        Assert.EndsWith($"... (truncated, {NineMegabytes} bytes)", events[0].GetProperty("node").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_MoreRowsThanOnePage_AllShownOldestFirstInOneJsonDocument()
    {
        const int Rows = 1_234;
        for (var i = 0; i < Rows; i++)
        {
            Audit.Append(new AuditRecord(AuditKinds.TokenCreated, "admin") { Node = $"worker-{i}" });
        }

        var json = CliRun.Invoke("--config", Config, "audit", "-o", "json");

        Assert.True(json.ExitCode == 0, json.Error);
        var nodes = JsonDocument.Parse(json.Output).RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("node").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, Rows).Select(i => $"worker-{i}"), nodes);
    }
}
