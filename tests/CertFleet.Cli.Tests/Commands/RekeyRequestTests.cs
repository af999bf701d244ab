using CertFleet.Cli.Tests.Fleet;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// What `plan --rekey-ca` and `renew --all --rekey-ca` ask the coordinator (RolloutRequest.rekey_ca), from each way an
/// operator writes it, against a real coordinator whose rollouts are <see cref="RekeyRollouts"/>.
/// </summary>
[Collection(RekeyCoordinator.Collection)]
public sealed class RekeyRequestTests : IDisposable
{
    private readonly RekeyCoordinator _coordinator;
    private readonly string _scratch = ScratchDirectory.Create("rekey-request");

    public RekeyRequestTests(RekeyCoordinator coordinator)
    {
        _coordinator = coordinator;
        coordinator.Reset();
    }

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public async Task RenewAllRekeyCaWait_NoCaNamed_AsksToReKeyEveryCaAndShowsEachNewStepKind()
    {
        var (exitCode, output, error) = await _coordinator.RunAsync("renew", "--all", "--rekey-ca", "--wait");

        Assert.True(exitCode == 0, error);
        var request = Assert.Single(_coordinator.Rollouts.Requests);
        Assert.True(request.All);
        // every CA, and every choice left to the coordinator (the old CA's subject and key type, 3650 days, no stop)
        Assert.Equal(new RekeyCa { CaDays = 3650 }, request.RekeyCa);
        Assert.Contains("[1/11] new-ca on coordinator: succeeded", output, StringComparison.Ordinal);
        Assert.Contains("[2/11] trust on master-1: succeeded", output, StringComparison.Ordinal);
        Assert.Contains("[5/11] pause on coordinator: succeeded", output, StringComparison.Ordinal);
        Assert.Contains("[6/11] switch-ca on coordinator: succeeded", output, StringComparison.Ordinal);
        Assert.Contains("[8/11] switch-signing on master-1: succeeded", output, StringComparison.Ordinal);
        Assert.Contains("[10/11] retire on worker-1: succeeded", output, StringComparison.Ordinal);
        Assert.Contains("[11/11] retire-ca on coordinator: succeeded", output, StringComparison.Ordinal);
        Assert.Contains($"Rollout {RekeyRollouts.Id} completed: every step succeeded.", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("renew", "--all")]
    public async Task RekeyCa_EveryChoiceGiven_SendsEachOne(params string[] command)
    {
        var (exitCode, _, error) = await _coordinator.RunAsync([.. command, "--rekey-ca", "kubernetes-ca", "--key-type", "ec:P-384",
            "--ca-days", "730", "--stop-after", "trust", "--allow-weaker", "--subject", "/CN=x"]);

        Assert.True(exitCode == 0, error);
        var request = Assert.Single(_coordinator.Rollouts.Requests);
        Assert.Equal(new RekeyCa
        {
            Authorities = { "kubernetes-ca" }, KeyType = "ec:P-384", CaDays = 730, StopAfter = "trust", AllowWeaker = true, Subject = "/CN=x",
        }, request.RekeyCa);
    }

    [Theory]
    [InlineData("--rekey-ca kubernetes-ca", "kubernetes-ca")]
    [InlineData("--rekey-ca=kubernetes-ca", "kubernetes-ca")]
    [InlineData("--rekey-ca kubernetes-ca --rekey-ca=front-proxy-ca", "kubernetes-ca,front-proxy-ca")]
    [InlineData("--rekey-ca etcd-ca --rekey-ca etcd-ca", "etcd-ca")]
    [InlineData("--rekey-ca", "")]
    [InlineData("--rekey-ca --detail", "")] // the next option is never taken for a CA
    [InlineData("--rekey-ca -o json", "")]
    public async Task PlanRekeyCa_EachWayToWriteIt_NamesThoseCas(string arguments, string names)
    {
        var (exitCode, _, error) = await _coordinator.RunAsync(["plan", .. arguments.Split(' ')]);

        Assert.True(exitCode == 0, error);
        var request = Assert.Single(_coordinator.Rollouts.Requests);
        Assert.Equal(names.Split(',', StringSplitOptions.RemoveEmptyEntries), request.RekeyCa.Authorities);
    }

    [Theory]
    [InlineData("rsa", "rsa:2048")]
    [InlineData("RSA:4096", "rsa:4096")]
    [InlineData("ec", "ec:P-256")]
    [InlineData("ec:p-521", "ec:P-521")]
    public async Task PlanRekeyCaKeyType_AnySpellingTheLibraryReads_SentInOneSpelling(string given, string sent)
    {
        var (exitCode, _, error) = await _coordinator.RunAsync("plan", "--rekey-ca", "--key-type", given);

        Assert.True(exitCode == 0, error);
        Assert.Equal(sent, Assert.Single(_coordinator.Rollouts.Requests).RekeyCa.KeyType);
    }

    [Theory]
    [InlineData("pkcs8")]
    [InlineData("sec1")]
    public async Task RenewRekeyCa_NewCaMadeWithOpenssl_SendsTheTextOfBothFilesForThatCa(string keyForm)
    {
        var (certificate, key) = NewCaFiles.Make(_scratch, keyForm);

        var (exitCode, output, error) = await _coordinator.RunAsync("renew", "--all", "--rekey-ca", "kubernetes-ca",
            "--new-ca-cert", certificate, "--new-ca-key", key);

        Assert.True(exitCode == 0, error);
        Assert.Contains($"Started rollout {RekeyRollouts.Id}", output, StringComparison.Ordinal);
        var rekey = Assert.Single(_coordinator.Rollouts.Requests).RekeyCa;
        Assert.Equal(["kubernetes-ca"], rekey.Authorities);
        Assert.Equal(File.ReadAllText(certificate), rekey.NewCaCertPem);
        Assert.Equal(File.ReadAllText(key), rekey.NewCaKeyPem);
    }

    [Fact]
    public async Task RenewRekeyCa_CoordinatorRefusesAWeakerKey_PrintsItsReasonAndExitsTwo()
    {
        const string Reason = "the new CA key (ECDSA P-256, 128-bit strength) is weaker than the old CA 'CN=kubernetes-ca' key "
            + "(RSA 4096, 128-bit strength); give a key at least as strong (--key-type), or pass --allow-weaker to accept it";
        _coordinator.Rollouts.Refusal = Reason;

        var (exitCode, output, error) = await _coordinator.RunAsync("renew", "--all", "--rekey-ca", "kubernetes-ca", "--key-type", "ec:P-256", "--wait");

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Equal($"certfleet: {Reason}\n", error);
    }
}
