using CertFleet.Agent.Options;
using CertFleet.Agent.Steps;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Agent.Tests;

/// <summary>
/// An agent host built (not started) for one node folder, so tests call its handlers as the dispatcher would,
/// through the same wiring as the real program.
/// </summary>
internal sealed class AgentUnderTest : IDisposable
{
    private readonly IHost _host;
    private readonly bool _ownsState;

    public AgentUnderTest(string root, string? restartCommand = null, string? healthCommand = "true", TimeSpan? gateTimeout = null, string? stateDirectory = null)
    {
        _ownsState = stateDirectory is null;
        StateDirectory = stateDirectory ?? ScratchDirectory.Create("agent-state");
        Options = new AgentOptions
        {
            Coordinator = new Uri("https://127.0.20.1:1"),
            Node = "test-node",
            Root = root,
            StateDirectory = StateDirectory,
            RestartCommand = restartCommand ?? "true",
            HealthCommand = healthCommand,
            GateTimeout = gateTimeout ?? TimeSpan.FromSeconds(10),
        };
        _host = AgentHost.Build(Options);
    }

    public AgentOptions Options { get; }

    public string StateDirectory { get; }

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>
    /// Journals an install, of a rollout of its own, whose certificates <paramref name="unit"/> uses, and returns the
    /// rollout's id: the agent restarts only what an install of the same rollout touched, and a gate test needs no real one.
    /// </summary>
    public string InstalledFor(string unit)
    {
        var rollout = "gate-test-" + unit;
        Get<StepJournal>().Record(new JournalEntry { StepId = rollout + "/install", RolloutId = rollout, Kind = "install", Ok = true, Units = [unit] });
        return rollout;
    }

    public void Dispose()
    {
        _host.Dispose();
        if (_ownsState)
        {
            ScratchDirectory.Delete(StateDirectory);
        }
    }

    /// <summary>A renewal of the certificate in <paramref name="certificateFile"/>, signed by the node's own CA (as the coordinator would).</summary>
    public static CertificateInfo Renew(string nodeRoot, string certificateFile, string caName = "ca")
    {
        var pki = Path.Combine(nodeRoot, "etc/kubernetes/pki");
        var previous = LoadCertificate(Path.Combine(pki, certificateFile));
        using var key = LoadKey(Path.Combine(pki, Path.ChangeExtension(certificateFile, ".key")));
        using var caKey = LoadKey(Path.Combine(pki, caName + ".key"));
        var csr = CertificateRequestBuilder.FromExistingCertificate(previous, key);
        return new CertificateIssuer(TimeProvider.System).Renew(csr, previous,
            new CertificateAuthority(LoadCertificate(Path.Combine(pki, caName + ".crt")), caKey), TimeSpan.FromDays(365));
    }

    public static CertificateInfo LoadCertificate(string path) =>
        CertificateInfo.Parse(Pem.Read(File.ReadAllText(path), path).First(b => b.Label == "CERTIFICATE").Der, path);

    public static PrivateKey LoadKey(string path) =>
        PrivateKey.Parse(Pem.Read(File.ReadAllText(path), path).Single(b => PrivateKey.IsPrivateKeyLabel(b.Label)), path);
}
