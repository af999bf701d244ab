using System.Text.Json;
using CertFleet.Cli.Tests.Fleet;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// What an operator sees of a re-key: the plan with the files each trust, switch-signing and retire step writes
/// (text and JSON), its step kinds in `renew --wait` and `rollout show`, and the pause of --stop-after; against a
/// real coordinator whose rollouts are <see cref="RekeyRollouts"/>.
/// </summary>
[Collection(RekeyCoordinator.Collection)]
public sealed class RekeyOutputTests
{
    private readonly RekeyCoordinator _coordinator;

    public RekeyOutputTests(RekeyCoordinator coordinator)
    {
        _coordinator = coordinator;
        coordinator.Reset();
    }

    [Fact]
    public async Task PlanRekeyCa_StepsThatWriteFiles_ListThemUnderTheStepEscaped()
    {
        var (exitCode, output, error) = await _coordinator.RunAsync("plan", "--rekey-ca");

        Assert.True(exitCode == 0, error);
        Assert.Contains("""
            Steps, in order (each gated on health before the next):
            STEP   BATCH   ACTION           NODE       UNIT
            1      1       new-ca           -          -
            2      2       trust            master-1   -
                             /etc/kubernetes/pki/ca.crt
                             /etc/kubernetes/pki/ca-signing.crt
                             /etc/kubernetes/kubelet.conf
            3      2       trust            worker-1   -
                             /etc/kubernetes/pki/ca.crt
                             /etc/kubernetes/pki/ca\x1b[2J.crt
            4      3       restart          master-1   kube-apiserver.service
            5      4       pause            -          -
            6      5       switch-ca        -          -
            7      6       install          master-1   -
            8      7       switch-signing   master-1   -
                             /etc/kubernetes/pki/ca-signing.crt
                             /etc/kubernetes/pki/ca-signing.key
            9      8       restart          master-1   kube-controller-manager.service
            10     9       retire           worker-1   -
                             /etc/kubernetes/pki/ca.crt
            11     10      retire-ca        -          -

            """.ReplaceLineEndings("\n"), output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
    }

    [Fact]
    public async Task PlanRekeyCaJson_StepsThatWriteFiles_HaveTheirFilesAndNoOtherStepHasTheField()
    {
        var (exitCode, output, error) = await _coordinator.RunAsync("plan", "--rekey-ca", "-o", "json");

        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        var steps = json.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["new-ca", "trust", "trust", "restart", "pause", "switch-ca", "install", "switch-signing", "restart", "retire", "retire-ca"],
            steps.Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal(["/etc/kubernetes/pki/ca.crt", RekeyRollouts.HostileFile], steps[2].GetProperty("files").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(["/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key"],
            steps[7].GetProperty("files").EnumerateArray().Select(f => f.GetString()));
        // a step that writes nothing is written as every step always was: sequence, batch, kind, node, unit
        Assert.Equal(["sequence", "batch", "kind", "node", "unit"], steps[3].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["sequence", "batch", "kind", "node", "unit", "files"], steps[1].EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain('\u001b', output); // JSON escapes it: \u001B
    }

    [Fact]
    public async Task RenewRekeyCaWait_StopAfterTrust_SaysItPausedAndHowToGoOnAndExitsZero()
    {
        var (exitCode, output, error) = await _coordinator.RunAsync("renew", "--all", "--rekey-ca", "--stop-after", "trust", "--wait");

        Assert.True(exitCode == 0, error);
        Assert.Empty(error);
        Assert.Equal("trust", Assert.Single(_coordinator.Rollouts.Requests).RekeyCa.StopAfter);
        Assert.Contains("[5/11] pause on coordinator: running: waiting for `certfleet rollout resume`", output, StringComparison.Ordinal);
        Assert.EndsWith($"Rollout {RekeyRollouts.Id} paused after the trust phase at step 5, as --stop-after asked.\n"
            + $"Check the fleet, then 'certfleet rollout resume {RekeyRollouts.Id}' goes on with the next phase.\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RolloutShow_Rekey_EveryStepKindByItsWord()
    {
        var (exitCode, output, error) = await _coordinator.RunAsync("rollout", "show", RekeyRollouts.Id);

        Assert.True(exitCode == 0, error);
        foreach (var kind in new[] { "new-ca", "trust", "pause", "switch-ca", "switch-signing", "retire", "retire-ca" })
        {
            Assert.Matches($"(?m)^\\d+ +\\d+ +{kind} ", output);
        }
    }

    [Fact]
    public async Task RolloutShowJson_RequestEchoesANewCaKey_KindsAsWordsAndTheKeyNotShown()
    {
        var (exitCode, output, error) = await _coordinator.RunAsync("rollout", "show", RekeyRollouts.Id, "-o", "json");

        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("switch-signing", json.RootElement.GetProperty("steps")[7].GetProperty("kind").GetString());
        var rekey = json.RootElement.GetProperty("request").GetProperty("rekeyCa");
        Assert.Equal("kubernetes-ca", rekey.GetProperty("authorities")[0].GetString());
        Assert.Equal("(not shown: a private key)", rekey.GetProperty("newCaKeyPem").GetString());
        Assert.DoesNotContain("MC4CAQ", output, StringComparison.Ordinal);
    }
}
