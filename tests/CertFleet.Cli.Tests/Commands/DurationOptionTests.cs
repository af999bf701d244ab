using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CertFleet.Cli.Tests.Fleet;
using CertFleet.Coordinator.Rollouts;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// The CLI's duration options (--expiring-within, --ttl, --since) in the one grammar of the three programs, against a
/// real coordinator on 127.0.64.2 whose rollouts are <see cref="PinnedRollouts"/> (the grammar itself:
/// CertFleet.Pki.Tests DurationTextTests).
/// </summary>
public sealed partial class DurationOptionTests : IAsyncLifetime
{
    private const string Grammar = "a whole number and a unit, s, m, h, d or w (90s, 15m, 12h, 30d, 2w), or several from the largest unit down (1h30m)";

    private readonly PinnedRollouts _rollouts = new();
    private ScriptedCoordinator _coordinator = null!;

    private string Config => _coordinator.Config;

    public async Task InitializeAsync() =>
        _coordinator = await ScriptedCoordinator.StartAsync("127.0.64.2:7443", "duration-cmd",
            services => services.AddSingleton<IRolloutAdmin>(_rollouts));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Theory]
    [InlineData("plan", "2w", 14 * 86400)]
    [InlineData("plan", "1h30m", 5400)] // parts, new
    [InlineData("plan", "30D", 30 * 86400)] // upper case, as --auto-renew-within always took
    [InlineData("renew", "14d", 14 * 86400)] // README: certfleet renew --expiring-within 14d --wait
    [InlineData("renew", "10675199d", 10675199L * 86400)]
    public async Task ExpiringWithin_InTheOneGrammar_SendsThoseSeconds(string command, string text, long seconds)
    {
        var (exitCode, _, error) = await Task.Run(() => CliRun.Invoke("--config", Config, command, "--expiring-within", text));

        Assert.True(exitCode == 0, error);
        Assert.Equal(seconds, Assert.Single(_rollouts.Requests).ExpiringWithinSeconds);
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("renew")]
    public void ExpiringWithin_NotADuration_ExitsTwoNamingOptionValueAndGrammarAndAsksNothing(string command)
    {
        var (exitCode, output, error) = CliRun.Invoke("--config", Config, command, "--expiring-within", "30days");

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.Equal($"certfleet: --expiring-within '30days' is not a duration: 'days' is not a unit (s, m, h, d or w); write {Grammar}\n"
            + "Run 'certfleet --help' for usage.\n", error);
        Assert.Empty(_rollouts.Requests);
    }

    [Fact]
    public async Task TokenCreate_TtlInTheOneGrammar_TokenValidThatLong()
    {
        var before = DateTimeOffset.UtcNow;

        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "token", "create", "--ttl", "1d12h", "--print-join-command"));

        Assert.True(exitCode == 0, error);
        var until = DateTimeOffset.ParseExact(ValidUntil().Match(output).Groups[1].Value, "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(until, before.AddHours(36).AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(36));
    }

    [Fact]
    public void TokenCreate_TtlNotADuration_ExitsTwoNamingOptionValueAndGrammar()
    {
        var (exitCode, output, error) = CliRun.Invoke("--config", Config, "token", "create", "--ttl", "-1h");

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.StartsWith($"certfleet: --ttl '-1h' is not a duration: a duration is never negative; write {Grammar}\n", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_SinceFurtherBackThanYearOne_EverythingFromTheBeginning()
    {
        Assert.Equal(0, (await Task.Run(() => CliRun.Invoke("--config", Config, "token", "create", "--node", "worker-1"))).ExitCode);

        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "audit", "--since", "10675199d", "-o", "json"));

        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Contains(json.RootElement.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "token-created");
    }

    [Fact]
    public void Audit_SinceNeitherTimeNorDuration_ExitsTwoSayingWhatADurationLooksLike()
    {
        var (exitCode, _, error) = CliRun.Invoke("--config", Config, "audit", "--since", "30 days");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("certfleet: --since '30 days' is neither an ISO 8601 time (2026-11-28T09:00Z) nor a duration back from now "
            + $"(it has a space in it; write the parts together (1h30m)); write a time, or {Grammar}\n", error, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"# Token valid until (\S+ \S+) UTC")]
    private static partial Regex ValidUntil();
}
