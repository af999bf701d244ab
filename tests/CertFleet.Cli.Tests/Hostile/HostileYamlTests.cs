using System.Text.Json;
using CertFleet.Testing;
using CertFleet.Testing.Guides;

namespace CertFleet.Cli.Tests.Hostile;

/// <summary>
/// A worker of kubernetes-the-hard-way whose kubelet --config and kube-proxy kubeconfig were replaced by YAML nested
/// 100,000 levels deep. YamlDotNet's recursive loader would overflow the stack (exit 134, and the agent, which scans
/// the same way, would crash-loop), so the real `certfleet` runs in a child process: a stack overflow in-process
/// would take the test host down with it.
/// </summary>
public sealed class HostileYamlTests(HardWayLayout layout) : IClassFixture<HardWayLayout>
{
    private const string KubeletConfig = "/var/lib/kubelet/kubelet-config.yaml";
    private const string ProxyKubeconfig = "/var/lib/kube-proxy/kubeconfig";

    [Fact]
    public void CheckExpiration_DeeplyNestedComponentConfigAndKubeconfig_NamesBothFilesAndListsEveryOtherCertificate()
    {
        var root = HostileNode();

        var run = CliRun.Process(null, "check-expiration", "--root", root);

        Assert.True(run.ExitCode == 0, run.Combined);
        Assert.DoesNotContain("   at ", run.Combined, StringComparison.Ordinal); // no stack trace
        var lines = run.StandardOutput.Split('\n');
        Assert.Contains(lines, l => l.StartsWith($"{KubeletConfig}: ", StringComparison.Ordinal) && l.Contains("nested deeper than 64", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{ProxyKubeconfig}: ", StringComparison.Ordinal) && l.Contains("nested deeper than 64", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("/var/lib/kubelet/kubelet.crt ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("/var/lib/kubelet/kubeconfig (user system:node:node-0) ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("/var/lib/kubelet/ca.crt", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckExpirationJson_DeeplyNestedYaml_GivesAnErrorElementPerFileBesideTheCertificates()
    {
        var root = HostileNode();

        var run = CliRun.Process(null, "check-expiration", "--root", root, "-o", "json");

        Assert.True(run.ExitCode == 0, run.Combined);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var elements = json.RootElement.EnumerateArray().ToList();
        var errors = elements.Where(e => e.TryGetProperty("error", out _)).ToDictionary(e => e.GetProperty("path").GetString()!, e => e.GetProperty("error").GetString()!);
        Assert.Contains("nested deeper than 64", errors[KubeletConfig], StringComparison.Ordinal);
        Assert.Contains("nested deeper than 64", errors[ProxyKubeconfig], StringComparison.Ordinal);
        Assert.Contains(elements, e => e.GetProperty("path").GetString() == "/var/lib/kubelet/kubelet.crt" && e.TryGetProperty("subject", out _));
    }

    private string HostileNode()
    {
        var root = layout.Copy("worker");
        File.WriteAllText(OnNode(root, KubeletConfig), new string('[', 100_000));
        // a kubeconfig by every test the scanner makes (kind: Config at the top), then 100,000 nested flow mappings
        File.WriteAllText(OnNode(root, ProxyKubeconfig), "apiVersion: v1\nkind: Config\nclusters: " + string.Concat(Enumerable.Repeat("{a: ", 100_000)) + "\n");
        return root;
    }

    private static string OnNode(string root, string path) => Path.Combine(root, path.TrimStart('/'));
}
