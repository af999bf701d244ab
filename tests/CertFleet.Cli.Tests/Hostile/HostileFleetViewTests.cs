using System.Text.Json;
using CertFleet.Cli.Output;
using CertFleet.Cli.Tests.Fleet;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Hostile;

/// <summary>
/// The fleet views (status, plan, rollout, verify, renew --wait, rollback, audit) of a real coordinator on 127.0.132.1
/// whose stored reports and rollouts hold what a hostile agent sent (<see cref="HostileFleet"/>): the CLI never crashes
/// on a certificate it cannot parse, shows it as that node's error, and never passes a control character to the terminal.
/// </summary>
public sealed class HostileFleetViewTests : IAsyncLifetime
{
    private readonly HostileFleet _fleet = new(hostileNames: true);
    private ScriptedCoordinator _coordinator = null!;

    private string Config => _coordinator.Config;

    public async Task InitializeAsync() =>
        _coordinator = await ScriptedCoordinator.StartAsync("127.0.132.1:7443", "hostile-fleet",
            services => services.AddSingleton<IFleetInventory>(_fleet).AddSingleton<IRolloutAdmin>(_fleet));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task Status_NodesReportedUnparseableCertificates_PrintsEveryNodeAndNamesEachBadCertificateAsThatNodesError()
    {
        var (exitCode, output, error) = await Run("status");

        Assert.True(exitCode == 0, output + error);
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("master-1 ", StringComparison.Ordinal) && l.Contains(HostileFleet.GoodPath, StringComparison.Ordinal)
            && l.EndsWith(" ok", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("worker-1 ", StringComparison.Ordinal) && l.Contains("1 unreadable", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("worker-2 ", StringComparison.Ordinal) && l.Contains("1 unreadable", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"worker-1: {HostileFleet.TinyPath}: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"worker-2: {HostileFleet.BerPath}: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StatusJson_NodesReportedUnparseableCertificates_GivesThemAsErrorElementsAndTheRestAsCertificates()
    {
        var (exitCode, output, error) = await Run("status", "-o", "json");

        Assert.True(exitCode == 0, output + error);
        using var json = JsonDocument.Parse(output);
        var nodes = json.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!);
        var worker1 = nodes["worker-1"].GetProperty("certificates").EnumerateArray().ToList();
        Assert.Contains(worker1, c => c.GetProperty("path").GetString() == HostileFleet.TinyPath && c.TryGetProperty("error", out _));
        Assert.Contains(worker1, c => c.GetProperty("path").GetString() == "/etc/kubernetes/pki/worker-1.crt" && c.TryGetProperty("subject", out _));
        Assert.Contains(nodes["worker-2"].GetProperty("certificates").EnumerateArray(),
            c => c.GetProperty("path").GetString() == HostileFleet.BerPath && c.TryGetProperty("error", out _));
        Assert.Contains(nodes["master-1"].GetProperty("certificates").EnumerateArray(), c => c.GetProperty("subject").GetString() == "CN=kube-apiserver");
        Assert.Contains(nodes.Keys, n => n == "worker-" + HostileFleet.Attack); // JSON keeps the name as it is, escaped by JSON's rules
        HostileFileNameTests.AssertNoTerminalControls(output);
    }

    [Fact]
    public async Task Status_HostileNodeNamePathsAndMessages_ShowsThemEscaped()
    {
        var (_, output, error) = await Run("status");

        HostileFileNameTests.AssertNoTerminalControls(output + error);
        Assert.Contains($"worker-{HostileFleet.Escaped}", output, StringComparison.Ordinal);
        Assert.Contains($"/etc/kubernetes/pki/{HostileFleet.Escaped}.crt", output, StringComparison.Ordinal);
        Assert.Contains($"could not read {HostileFleet.Escaped}", output, StringComparison.Ordinal);
        // the status line keeps a halt reason to one line: its line breaks become "; ", the rest is escaped
        Assert.Contains(@"HALTED: restart failed on the node: \x1b]0;pwned\x07\x1b[2K; ALL CERTIFICATES OK; \u202e", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plan", "--all")]
    [InlineData("rollout", "show", HostileFleet.RolloutId)]
    [InlineData("rollout", "list")]
    [InlineData("verify")]
    [InlineData("renew", "--all", "--wait")]
    [InlineData("rollback", "--rollout", HostileFleet.RolloutId)]
    public async Task FleetCommand_HostileStringsFromTheCoordinator_ReachTheTerminalEscaped(params string[] command)
    {
        var (_, output, error) = await Run(command);

        HostileFileNameTests.AssertNoTerminalControls(output + error);
        Assert.DoesNotContain((output + error).Split('\n'), l => l.StartsWith("ALL CERTIFICATES OK", StringComparison.Ordinal));
        if (command[0] != "rollout" || command[1] != "list")
        {
            Assert.Contains(HostileFleet.Escaped, output + error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AuditTable_HostileFieldsInRecords_ShowsEveryFieldEscaped()
    {
        var audit = new AuditResponse
        {
            Events =
            {
                new AuditEvent
                {
                    Sequence = 1, Time = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Kind = "enrollment-refused",
                    Actor = "agent:" + HostileFleet.Attack, Node = HostileFleet.Attack, Path = "/etc/" + HostileFleet.Attack,
                    Subject = "CN=" + HostileFleet.Attack, Serial = HostileFleet.Attack, Reason = "because " + HostileFleet.Attack,
                },
            },
        };
        var output = new StringWriter();

        AuditOutput.WriteTable(output, audit);

        HostileFileNameTests.AssertNoTerminalControls(output.ToString());
        Assert.Contains($"because {HostileFleet.Escaped}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"/etc/{HostileFleet.Escaped} (CN={HostileFleet.Escaped})", output.ToString(), StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Output, string Error)> Run(params string[] command) =>
        Task.Run(() => CliRun.Invoke(["--config", Config, .. command]));
}
