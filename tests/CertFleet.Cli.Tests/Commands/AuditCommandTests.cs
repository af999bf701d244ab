using System.Text.Json;
using CertFleet.Cli.Output;
using CertFleet.Coordinator.Hosting;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>`certfleet audit` against a real coordinator on 127.0.41.2, with its own admin.conf.</summary>
public sealed class AuditCommandTests : IAsyncLifetime
{
    private readonly string _state = ScratchDirectory.Create("audit-cli");
    private WebApplication _coordinator = null!;

    private string Config => Path.Combine(_state, "admin.conf");

    public async Task InitializeAsync()
    {
        _coordinator = CoordinatorHost.Build(new CoordinatorOptions { Listen = "127.0.41.2:7443", StateDirectory = _state, ClusterAuthorities = [] });
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
    public void Audit_AfterTokenCreate_TableShowsTheTokenRecordWithoutTheToken()
    {
        var created = CliRun.Invoke("--config", Config, "token", "create", "--node", "worker-7", "--role", "worker");
        Assert.Equal(0, created.ExitCode);

        var (exitCode, output, error) = CliRun.Invoke("--config", Config, "audit");

        Assert.True(exitCode == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["TIME", "KIND", "NODE", "PATH/SUBJECT", "SERIAL", "DETAIL"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("token-created", lines[1], StringComparison.Ordinal);
        Assert.Contains("worker-7", lines[1], StringComparison.Ordinal);
        Assert.Contains("by admin", lines[1], StringComparison.Ordinal);
        var token = created.Output.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).First(w => w.Length >= 20 && !w.Contains(':', StringComparison.Ordinal));
        Assert.DoesNotContain(token, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_JsonWithNodeAndSince_OnlyMatchingEvents()
    {
        Assert.Equal(0, CliRun.Invoke("--config", Config, "token", "create", "--node", "worker-1").ExitCode);
        Assert.Equal(0, CliRun.Invoke("--config", Config, "token", "create", "--node", "worker-2").ExitCode);

        var forNode = CliRun.Invoke("--config", Config, "audit", "--node", "worker-2", "--since", "1h", "-o", "json");
        var future = CliRun.Invoke("--config", Config, "audit", "--since", "2099-01-01T00:00Z", "-o", "json");

        Assert.True(forNode.ExitCode == 0, forNode.Error);
        var events = JsonDocument.Parse(forNode.Output).RootElement.GetProperty("events");
        var only = Assert.Single(events.EnumerateArray());
        Assert.Equal(("token-created", "worker-2", "admin"), (only.GetProperty("kind").GetString(), only.GetProperty("node").GetString(), only.GetProperty("actor").GetString()));
        Assert.Empty(JsonDocument.Parse(future.Output).RootElement.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public void Audit_SinceNotATimeOrDuration_InvalidInputNamingTheOption()
    {
        var (exitCode, _, error) = CliRun.Invoke("--config", Config, "audit", "--since", "yesterday");

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Contains("--since 'yesterday' is neither an ISO 8601 time", error, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTable_Refusal_ShowsPathSubjectAndReason()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 30, 0, TimeSpan.Zero));
        var audit = new AuditResponse
        {
            Events =
            {
                new AuditEvent
                {
                    Sequence = 1, Time = Timestamp.FromDateTimeOffset(time.GetUtcNow()), Kind = "refused", Actor = "admin", Node = "worker-1",
                    Path = "/etc/kubernetes/pki/admin.crt", Subject = "CN=kubernetes-admin,O=system:masters", Reason = "O=system:masters (cluster-admin): only on masters",
                    RolloutId = "r-1",
                },
            },
        };
        var output = new StringWriter();

        AuditOutput.WriteTable(output, audit);

        var row = output.ToString().Split('\n')[1];
        Assert.StartsWith("2026-11-28T09:30:00Z", row, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/pki/admin.crt (CN=kubernetes-admin,O=system:masters)", row, StringComparison.Ordinal);
        Assert.Contains("O=system:masters (cluster-admin): only on masters; rollout r-1; by admin", row, StringComparison.Ordinal);
    }
}
