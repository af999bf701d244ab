using CertFleet.Agent.Options;
using CertFleet.Pki.Text;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Options;

public sealed class AgentOptionsParserTests : IDisposable
{
    private const string Hash = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly string _folder = ScratchDirectory.Create("agent-options");

    private string NoDefaultConfig => Path.Combine(_folder, "absent.conf");

    public void Dispose() => ScratchDirectory.Delete(_folder);

    [Fact]
    public void Parse_NoArguments_ListsCoordinatorAndNodeErrors()
    {
        var result = AgentOptionsParser.Parse([], NoDefaultConfig);

        Assert.Null(result.Options);
        Assert.Contains(result.Errors, e => e.StartsWith("--coordinator is required", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("--node is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_TokenFile_ReadsTheTokenWithoutItsNewlineAndRefusesTokenTwiceOrAMissingFile()
    {
        var file = Path.Combine(_folder, "token");
        File.WriteAllText(file, "abc123.def456\n");
        string[] node = ["--coordinator", "https://coordinator:7443", "--node", "worker-1", "--ca-hash", Hash];

        var fromFile = AgentOptionsParser.Parse([.. node, "--token-file", file], NoDefaultConfig);
        var both = AgentOptionsParser.Parse([.. node, "--token-file", file, "--token", "abc123.def456"], NoDefaultConfig);
        var missing = AgentOptionsParser.Parse([.. node, "--token-file", Path.Combine(_folder, "absent")], NoDefaultConfig);
        var withoutHash = AgentOptionsParser.Parse(["--coordinator", "https://coordinator:7443", "--node", "worker-1", "--token-file", file], NoDefaultConfig);

        Assert.Equal("abc123.def456", fromFile.Options?.Token);
        Assert.Contains(both.Errors, e => e.Contains("--token and --token-file both given", StringComparison.Ordinal));
        Assert.Contains(missing.Errors, e => e.StartsWith($"--token-file {Path.Combine(_folder, "absent")}: cannot be read", StringComparison.Ordinal));
        Assert.Contains(withoutHash.Errors, e => e.StartsWith("--token-file needs --ca-hash", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_SeveralMistakes_ListsEveryOneAtOnce()
    {
        var result = AgentOptionsParser.Parse(
            ["--coordinator", "http://plain:80", "--node", "a b", "--token", "abc.def", "--report-interval", "5 minutes",
             "--gate-timeout", "0s", "--root", Path.Combine(_folder, "missing"), "--bogus", "x"], NoDefaultConfig);

        Assert.Null(result.Options);
        Assert.Collection(result.Errors.Order(StringComparer.Ordinal),
            e => Assert.Contains("--coordinator 'http://plain:80': not an https:// URL", e),
            e => Assert.Contains("--gate-timeout '0s'", e),
            e => Assert.Contains("--node 'a b'", e),
            e => Assert.Contains("--report-interval '5 minutes'", e),
            e => Assert.Contains("missing: no such folder", e),
            e => Assert.Contains("--token needs --ca-hash", e),
            e => Assert.Contains("unknown option --bogus", e));
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("md5:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    public void Parse_MalformedCaHash_SaysWhatAHashLooksLike(string hash)
    {
        var result = AgentOptionsParser.Parse(["--coordinator", "https://c:7443", "--node", "n", "--token", "t", "--ca-hash", hash], NoDefaultConfig);

        var error = Assert.Single(result.Errors);
        Assert.Contains("expected sha256: followed by 64 hex digits", error);
    }

    [Fact]
    public void Parse_MalformedCaHash_ErrorNamesOptionValueProblemAndGrammar()
    {
        var result = AgentOptionsParser.Parse(["--coordinator", "https://c:7443", "--node", "n", "--token", "t", "--ca-hash", "sha256:abc"], NoDefaultConfig);

        Assert.Equal("--ca-hash 'sha256:abc' is not a SHA-256 hash: 3 hex digits where a SHA-256 hash has 64; "
            + "expected sha256: followed by 64 hex digits, as `certfleet token create --print-join-command` prints it", Assert.Single(result.Errors));
    }

    [Theory]
    [InlineData("2w", 14 * 86400)] // weeks, as plan --expiring-within always took
    [InlineData("1h30m", 5400)]
    [InlineData("5M", 300)] // upper case, as --auto-renew-within always took
    [InlineData("49d", 49 * 86400)]
    public void Parse_DurationInTheOneGrammar_ReportIntervalAndGateTimeoutTakeIt(string text, int seconds)
    {
        var result = AgentOptionsParser.Parse(
            ["--coordinator", "https://c:7443", "--node", "n", "--report-interval", text, "--gate-timeout", text], NoDefaultConfig);

        var options = Assert.IsType<AgentOptions>(result.Options);
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.ReportInterval);
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.GateTimeout);
    }

    [Fact]
    public void Parse_NotADuration_ErrorNamesOptionValueProblemAndGrammar()
    {
        var result = AgentOptionsParser.Parse(["--coordinator", "https://c:7443", "--node", "n", "--report-interval", "5 minutes"], NoDefaultConfig);

        Assert.Equal("--report-interval '5 minutes' is not a duration: it has a space in it; write the parts together (1h30m); "
            + "write a whole number and a unit, s, m, h, d or w (90s, 15m, 12h, 30d, 2w), or several from the largest unit down (1h30m)",
            Assert.Single(result.Errors));
    }

    [Theory]
    [InlineData("report-interval", "60d")]
    [InlineData("gate-timeout", "366d")] // the old cap: taken, then the timer threw once the agent ran
    [InlineData("gate-timeout", "49d1s")]
    public void Parse_LongerThanATimerRuns_RefusedAtStartNamingTheLimit(string key, string text)
    {
        var result = AgentOptionsParser.Parse(["--coordinator", "https://c:7443", "--node", "n", $"--{key}", text], NoDefaultConfig);

        Assert.Null(result.Options);
        Assert.Equal($"--{key} '{text}' is longer than 49d, the longest timer the agent can run; give at most 49d", Assert.Single(result.Errors));
    }

    [Fact]
    public void LongestTimer_IsWhatDotnetTimersTake()
    {
        // why the agent refuses longer: the timer it would start throws, long after the agent started
        using var longest = new PeriodicTimer(AgentOptions.LongestTimer, TimeProvider.System);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeriodicTimer(TimeSpan.FromDays(50), TimeProvider.System));
    }

    [Fact]
    public void Parse_EverythingGiven_DefaultsAndValuesAsExpected()
    {
        var result = AgentOptionsParser.Parse(
            ["--coordinator=https://coord.example:7443", "--node", "master-1", "--token", "abc.def", "--ca-hash", Hash,
             "--restart-command", "bash x.sh restart {unit}", "--report-interval", "30s"], NoDefaultConfig);

        var options = Assert.IsType<AgentOptions>(result.Options);
        Assert.Equal(new Uri("https://coord.example:7443"), options.Coordinator);
        Assert.Equal("master-1", options.Node);
        Assert.Equal("/", options.Root);
        Assert.Equal("/var/lib/certfleet-agent", options.StateDirectory);
        Assert.Equal(Hash, Sha256Text.Format(options.CaHash));
        Assert.Equal("bash x.sh restart {unit}", options.RestartCommand);
        Assert.Null(options.HealthCommand);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ReportInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), options.GateTimeout);
    }

    [Fact]
    public void Parse_ConfigFileAndCommandLine_CommandLineWins()
    {
        var config = Path.Combine(_folder, "agent.conf");
        File.WriteAllLines(config,
        [
            "# written by the installer",
            "coordinator: https://from-file:7443",
            "node: from-file",
            $"root: {_folder}",
            "health-command: \"systemctl is-active {unit}\"",
            "gate-timeout: 2m",
        ]);

        var result = AgentOptionsParser.Parse(["--config", config, "--node", "from-command-line"], NoDefaultConfig);

        var options = Assert.IsType<AgentOptions>(result.Options);
        Assert.Equal("from-command-line", options.Node);
        Assert.Equal(new Uri("https://from-file:7443"), options.Coordinator);
        Assert.Equal(_folder, options.Root);
        Assert.Equal("systemctl is-active {unit}", options.HealthCommand);
        Assert.Equal(TimeSpan.FromMinutes(2), options.GateTimeout);
    }

    [Fact]
    public void Parse_CoordinatorGroupInAgentConf_EveryUrlInTheOrderGiven()
    {
        var config = Path.Combine(_folder, "agent.conf");
        File.WriteAllLines(config, ["coordinator: https://coordinator-1:7443, https://coordinator-2:7443,https://10.0.0.3:7443", "node: n1"]);

        var result = AgentOptionsParser.Parse(["--config", config], NoDefaultConfig);

        var options = Assert.IsType<AgentOptions>(result.Options);
        Assert.Equal([new Uri("https://coordinator-1:7443"), new Uri("https://coordinator-2:7443"), new Uri("https://10.0.0.3:7443")], options.Coordinators);
        Assert.Equal(new Uri("https://coordinator-1:7443"), options.Coordinator);
    }

    [Fact]
    public void Parse_OneCoordinator_IsTheWholeGroup()
    {
        var result = AgentOptionsParser.Parse(["--coordinator", "https://c:7443", "--node", "n"], NoDefaultConfig);

        Assert.Equal([new Uri("https://c:7443")], Assert.IsType<AgentOptions>(result.Options).Coordinators);
    }

    [Theory]
    [InlineData("https://c1:7443,http://c2:7443", "--coordinator 'http://c2:7443': not an https:// URL")]
    [InlineData("https://c1:7443,c2:7443", "--coordinator 'c2:7443': not an https:// URL")]
    [InlineData("https://c1:7443,,https://c2:7443", "--coordinator 'https://c1:7443,,https://c2:7443': entry 2 is empty")]
    [InlineData("https://c1:7443,", "--coordinator 'https://c1:7443,': entry 2 is empty")]
    [InlineData("https://c1:7443,https://C1:7443/", "https://C1:7443/ is given twice")]
    public void Parse_CoordinatorGroupWithABadEntry_ErrorNamesThatEntry(string coordinators, string expected)
    {
        var result = AgentOptionsParser.Parse(["--coordinator", coordinators, "--node", "n"], NoDefaultConfig);

        Assert.Null(result.Options);
        Assert.Contains(expected, Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DefaultConfigFileExists_ItIsRead()
    {
        var config = Path.Combine(_folder, "default.conf");
        File.WriteAllLines(config, ["coordinator: https://default:7443", "node: n1"]);

        var result = AgentOptionsParser.Parse([], config);

        Assert.Equal("n1", result.Options?.Node);
    }

    [Fact]
    public void Parse_ConfigFileWithUnknownKey_NamesFileAndLine()
    {
        var config = Path.Combine(_folder, "bad.conf");
        File.WriteAllLines(config, ["coordinator: https://c:7443", "node: n", "colour: blue"]);

        var result = AgentOptionsParser.Parse(["--config", config], NoDefaultConfig);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{config}:3: expected `key: value`", error);
    }

    [Fact]
    public void Parse_ConfigFileGivesAKeyTwice_RefusesTheSecondAsTheCoordinatorDoes()
    {
        // which of two coordinators was meant cannot be guessed: the same rule as coordinator.conf, not "last wins"
        var config = Path.Combine(_folder, "twice.conf");
        File.WriteAllLines(config, ["coordinator: https://c:7443", "node: n", "coordinator: https://other:7443"]);

        var result = AgentOptionsParser.Parse(["--config", config], NoDefaultConfig);

        Assert.Null(result.Options);
        Assert.Equal([$"{config}:3: coordinator is already given on line 1; give it once"], result.Errors);
    }

    [Fact]
    public void Program_NoArguments_ExitsTwoWithEveryErrorAndNoStackTrace()
    {
        // The agent's own build output: the test folder carries ASP.NET Core's framework (for the stand-in
        // coordinator), so the agent's Hosting assemblies are not copied there.
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!;
        var program = Path.Combine(SharedFixtures.RepositoryRoot, "src/CertFleet.Agent/bin", configuration, "net10.0/certfleet-agent.dll");

        var result = ProcessRunner.Run("dotnet", [program, "--node", "x", "--token", "t"], timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--coordinator is required", result.StandardError);
        Assert.Contains("--token needs --ca-hash", result.StandardError);
        Assert.DoesNotContain("   at ", result.Combined);
    }
}
