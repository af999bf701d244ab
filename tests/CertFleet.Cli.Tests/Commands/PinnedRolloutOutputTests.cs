using CertFleet.Cli.Tests.Fleet;
using CertFleet.Coordinator.Rollouts;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// Everything the CLI prints of rollouts and plans (tables, progress lines, `-o json`), pinned byte for byte in
/// Commands/Pinned as the release before the state enums printed it: scripts parse these, so a change of the wire
/// types or of the code that prints them must not change a character. Against a real coordinator on 127.0.64.1
/// whose rollouts are <see cref="PinnedRollouts"/>.
/// </summary>
public sealed class PinnedRolloutOutputTests : IAsyncLifetime
{
    private readonly PinnedRollouts _rollouts = new();
    private ScriptedCoordinator _coordinator = null!;

    private string Config => _coordinator.Config;

    public async Task InitializeAsync() =>
        _coordinator = await ScriptedCoordinator.StartAsync("127.0.64.1:7443", "pinned-cmd",
            services => services.AddSingleton<IRolloutAdmin>(_rollouts));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    public static TheoryData<string> States => [.. PinnedRollouts.States];

    [Theory]
    [MemberData(nameof(States))]
    public Task RolloutShowJson_EachState_PrintsWhatTheReleaseBeforePrinted(string state) =>
        AssertPinnedAsync($"show-{state}.json", "rollout", "show", PinnedRollouts.IdOf(state), "-o", "json");

    [Theory]
    [MemberData(nameof(States))]
    public Task RolloutShow_EachState_PrintsWhatTheReleaseBeforePrinted(string state) =>
        AssertPinnedAsync($"show-{state}.txt", "rollout", "show", PinnedRollouts.IdOf(state));

    [Fact]
    public Task RolloutListJson_OneRolloutInEachState_PrintsWhatTheReleaseBeforePrinted() =>
        AssertPinnedAsync("list.json", "rollout", "list", "-o", "json");

    [Fact]
    public Task RolloutList_OneRolloutInEachState_PrintsWhatTheReleaseBeforePrinted() =>
        AssertPinnedAsync("list.txt", "rollout", "list");

    [Theory]
    [InlineData("running")]
    [InlineData("halted")]
    public async Task Status_UnfinishedRollout_PrintsWhatTheReleaseBeforePrinted(string state)
    {
        _rollouts.Listed = [PinnedRollouts.Of("completed"), PinnedRollouts.Of(state)];

        await AssertPinnedAsync($"status-{state}.txt", "status");
        await AssertPinnedAsync($"status-{state}.json", "status", "-o", "json");
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("halted")]
    [InlineData("aborted")]
    [InlineData("rolled-back")]
    public Task RenewWait_RolloutEndsInState_PrintsWhatTheReleaseBeforePrinted(string state)
    {
        _rollouts.Watched = ["running", state];
        return AssertPinnedAsync($"renew-wait-{state}.txt", "renew", "--all", "--wait");
    }

    [Theory]
    [InlineData("halted")]
    [InlineData("rolled-back")]
    public async Task Rollback_TableAndJson_PrintWhatTheReleaseBeforePrinted(string state)
    {
        await AssertPinnedAsync($"rollback-{state}.txt", "rollback", "--rollout", PinnedRollouts.IdOf(state));
        await AssertPinnedAsync($"rollback-{state}.json", "rollback", "--rollout", PinnedRollouts.IdOf(state), "-o", "json");
    }

    [Fact]
    public Task Plan_StepOfEveryKind_PrintsWhatTheReleaseBeforePrinted() =>
        AssertPinnedAsync("plan.txt", "plan", "--all");

    private async Task AssertPinnedAsync(string pinned, params string[] args)
    {
        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke(["--config", Config, .. args]));
        var actual = $"exit code {exitCode}\n--- standard output ---\n{output}--- standard error ---\n{error}";

        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Commands", "Pinned", pinned)), actual);
    }
}
