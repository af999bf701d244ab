using System.Text.Json;
using CertFleet.Cli.Output;
using CertFleet.Cli.Tests.Hostile;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// The CLI against a coordinator group (admin.conf's server: URL,URL,...) of stand-in coordinators on 127.0.161.x over
/// real mTLS: it moves past an unreachable coordinator and a standby, follows a standby's pointer to the active one, names
/// every coordinator and why when none answered, and status shows the group.
/// </summary>
public sealed class CoordinatorGroupTests : IDisposable
{
    /// <summary>Nothing listens there: connection refused at once.</summary>
    private const string Unreachable = "https://127.0.161.1:7443";

    private readonly string _folder = ScratchDirectory.Create("cli-group");
    private readonly GroupCoordinator.Group _group;

    public CoordinatorGroupTests() => _group = new GroupCoordinator.Group(_folder);

    public void Dispose()
    {
        _group.Dispose();
        ScratchDirectory.Delete(_folder);
    }

    [Fact]
    public async Task Status_FirstCoordinatorUnreachable_AnswersFromTheSecond()
    {
        await using var second = await GroupCoordinator.StartAsync(_group, "127.0.161.2");
        var config = _group.AdminConf($"{Unreachable},{second.Url}");

        var (exitCode, output, error) = await Run(config, "status");

        Assert.True(exitCode == 0, output + error);
        Assert.Contains(output.Split('\n'), l => l.StartsWith("master-1 ", StringComparison.Ordinal));
        Assert.Contains("GetStatus", second.Calls);
    }

    [Fact]
    public async Task WatchRollout_FirstCoordinatorUnreachable_StreamsFromTheSecond()
    {
        await using var second = await GroupCoordinator.StartAsync(_group, "127.0.161.15");
        var config = _group.AdminConf($"{Unreachable},{second.Url}");
        using var connection = new CertFleet.Cli.Fleet.CoordinatorConnection(CertFleet.Cli.Fleet.AdminConfigFile.Load(config));

        using var watch = connection.Admin.WatchRollout(new RolloutId { Id = "r-1" });
        var states = new List<RolloutState>();
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
        {
            states.Add(watch.ResponseStream.Current.State);
        }

        Assert.Equal([RolloutState.Running, RolloutState.Completed], states);
        Assert.Equal(Grpc.Core.StatusCode.OK, watch.GetStatus().StatusCode);
        Assert.Equal(["WatchRollout"], second.Calls);
    }

    [Fact]
    public async Task TokenCreate_StandbyNamesTheActive_GoesThereWithoutAskingTheOthers()
    {
        await using var standby = await GroupCoordinator.StartAsync(_group, "127.0.161.3");
        await using var otherStandby = await GroupCoordinator.StartAsync(_group, "127.0.161.4");
        await using var active = await GroupCoordinator.StartAsync(_group, "127.0.161.5");
        standby.StandbyOf = new GroupCoordinator.Standby(active.Url);
        otherStandby.StandbyOf = new GroupCoordinator.Standby(null);
        var config = _group.AdminConf($"{standby.Url},{otherStandby.Url},{active.Url}");

        var (exitCode, output, error) = await Run(config, "token", "create");

        Assert.True(exitCode == 0, output + error);
        Assert.Equal("abcdef.0123456789abcdef", output.Trim());
        Assert.Equal(["CreateToken"], standby.Calls);
        Assert.Empty(otherStandby.Calls);
        Assert.Equal(["CreateToken"], active.Calls);
    }

    [Fact]
    public async Task TokenCreate_NoCoordinatorAnswers_ErrorNamesEachAndWhy()
    {
        await using var standby = await GroupCoordinator.StartAsync(_group, "127.0.161.6");
        standby.StandbyOf = new GroupCoordinator.Standby(null);
        var config = _group.AdminConf($"{Unreachable},{standby.Url}");

        var (exitCode, output, error) = await Run(config, "token", "create");

        Assert.Equal(ExitCodes.Unavailable, exitCode);
        Assert.Empty(output);
        Assert.Contains($"certfleet: no coordinator named in {config} answered:", error, StringComparison.Ordinal);
        var lines = error.Split('\n');
        Assert.Contains(lines, l => l.StartsWith($"  {Unreachable}/: unreachable (", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"  {standby.Url}: refused: certfleet-coordinator {standby.Url} is a standby of its coordinator group", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Status_TwoCoordinators_TableShowsEachWithRoleLastSeenAndTheOneThatAnswered()
    {
        await using var standby = await GroupCoordinator.StartAsync(_group, "127.0.161.7");
        var now = DateTimeOffset.UtcNow;
        standby.Members =
        [
            new CoordinatorMember { Url = "https://127.0.161.8:7443", Role = "active", LastSeen = Timestamp.FromDateTimeOffset(now.AddMinutes(-3)) },
            new CoordinatorMember { Url = standby.Url.ToString(), Role = "standby", LastSeen = Timestamp.FromDateTimeOffset(now.AddMinutes(-5)) },
        ];
        var config = _group.AdminConf($"{standby.Url}");

        var (exitCode, output, error) = await Run(config, "status");

        Assert.True(exitCode == 0, output + error);
        var lines = output.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("COORDINATOR ROLE LAST SEEN", lines);
        Assert.Contains("https://127.0.161.8:7443 active 3m ago", lines);
        Assert.Contains($"{standby.Url} standby 5m ago {CoordinatorsOutput.AnsweredMark}", lines);
    }

    [Fact]
    public async Task StatusJson_TwoCoordinators_GivesTheCoordinatorsArray()
    {
        await using var standby = await GroupCoordinator.StartAsync(_group, "127.0.161.9");
        var seen = new DateTimeOffset(2026, 12, 7, 1, 2, 3, TimeSpan.Zero);
        standby.Members =
        [
            new CoordinatorMember { Url = "https://127.0.161.10:7443", Role = "active", LastSeen = Timestamp.FromDateTimeOffset(seen) },
            new CoordinatorMember { Url = standby.Url.ToString(), Role = "standby" },
        ];
        var config = _group.AdminConf($"{standby.Url}");

        var (exitCode, output, error) = await Run(config, "status", "-o", "json");

        Assert.True(exitCode == 0, output + error);
        using var json = JsonDocument.Parse(output);
        var coordinators = json.RootElement.GetProperty("coordinators").EnumerateArray().ToList();
        Assert.Equal(2, coordinators.Count);
        Assert.Equal("https://127.0.161.10:7443", coordinators[0].GetProperty("url").GetString());
        Assert.Equal("active", coordinators[0].GetProperty("role").GetString());
        Assert.Equal("2026-12-07T01:02:03Z", coordinators[0].GetProperty("lastSeen").GetString());
        Assert.False(coordinators[0].GetProperty("answering").GetBoolean());
        Assert.Equal(standby.Url.ToString(), coordinators[1].GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, coordinators[1].GetProperty("lastSeen").ValueKind);
        Assert.True(coordinators[1].GetProperty("answering").GetBoolean());
    }

    [Fact]
    public async Task Status_OneCoordinatorOnSqlite_PrintsWhatItPrintedBeforeGroups()
    {
        await using var only = await GroupCoordinator.StartAsync(_group, "127.0.161.11");
        only.Members = [new CoordinatorMember { Url = only.Url.ToString(), Role = "active", LastSeen = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-10)), Answering = true }];

        var (exitCode, output, error) = await Run(_group.AdminConf(only.Url.ToString()), "status");
        var (jsonExit, json, jsonError) = await Run(_group.AdminConf(only.Url.ToString()), "status", "-o", "json");

        Assert.True(exitCode == 0, output + error);
        // a coordinator alone has nothing to tell: status stays as scripts read it before groups
        Assert.DoesNotContain("COORDINATOR", output, StringComparison.Ordinal);
        Assert.True(jsonExit == 0, json + jsonError);
        Assert.False(JsonDocument.Parse(json).RootElement.TryGetProperty("coordinators", out _));
    }

    [Fact]
    public async Task Status_CoordinatorListsHostileMembers_EscapedAndCutInTheTable()
    {
        await using var coordinator = await GroupCoordinator.StartAsync(_group, "127.0.161.12");
        coordinator.Members =
        [
            new CoordinatorMember { Url = "https://evil.example/" + HostileFleet.Attack + new string('x', 5000), Role = "active" + HostileFleet.Attack },
        ];

        var (exitCode, output, error) = await Run(_group.AdminConf(coordinator.Url.ToString()), "status");

        Assert.True(exitCode == 0, output + error);
        HostileFileNameTests.AssertNoTerminalControls(output);
        Assert.Contains("active" + HostileFleet.Escaped, output, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 300), output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://127.0.161.13:7443,http://127.0.161.14:7443", "server 'http://127.0.161.14:7443' is not an https:// URL")]
    [InlineData("https://127.0.161.13:7443,,https://127.0.161.14:7443", "entry 2 is empty")]
    [InlineData("https://127.0.161.13:7443, https://127.0.161.13:7443/", "https://127.0.161.13:7443/ is given twice")]
    public async Task AnyFleetCommand_AdminConfServerListWithABadEntry_RefusedNamingThatEntry(string servers, string expected)
    {
        var config = _group.AdminConf(servers);

        var (exitCode, _, error) = await Run(config, "status");

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Contains($"certfleet: {config}: server", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Output, string Error)> Run(string config, params string[] args) =>
        Task.Run(() => CliRun.Invoke(["--config", config, .. args]));
}
