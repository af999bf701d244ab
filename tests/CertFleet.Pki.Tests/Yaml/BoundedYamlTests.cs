using CertFleet.Pki.ComponentConfigs;
using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Pki.Tests.Yaml;

/// <summary>
/// YAML shaped to overflow YamlDotNet's recursive loader (or to make it hash without end) is refused before it is
/// loaded, in every reader: a PkiException naming the file and the line. Before these bounds each of these crashed
/// the whole test host with a stack overflow (the CLI's child-process tests in Hostile/ show the same of the program).
/// </summary>
public sealed class BoundedYamlTests
{
    private const string Source = "/var/lib/kubelet/kubelet-config.yaml";

    public static TheoryData<string, string, string> Hostile() => new()
    {
        { "100,000 open brackets", new string('[', 100_000), "nested deeper than 64 levels" },
        { "100,000 nested flow mappings", "kind: Config\nclusters: " + string.Concat(Enumerable.Repeat("{a: ", 100_000)), "nested deeper than 64 levels" },
        { "65 nested block mappings", "kind: KubeletConfiguration\n" + string.Concat(Enumerable.Range(0, 65).Select(i => new string(' ', i) + "a:\n")) + new string(' ', 65) + "b: 1\n", "nested deeper than 64 levels" },
        { "a key that contains itself", "? &a [*a]\n: 1\n", "used as a mapping key" },
        { "a list inside itself", "kind: Config\nusers: &a [*a]\n", "inside the node it names" },
        { "a mapping key made of aliases", "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n? *c\n: 1\n", "used as a mapping key" },
        { "more than a MiB", "kind: Config\n#" + new string('x', 1 << 20) + "\n", "characters of YAML, more than" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void ComponentConfigParse_HostileYaml_ThrowsPkiExceptionNamingTheFile(string what, string text, string expected)
    {
        var error = Assert.Throws<PkiException>(() => ComponentConfig.Parse(text, Source));

        Assert.StartsWith($"{Source}: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{what}: {error.Message}");
        Assert.Contains("left alone", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void KubeconfigParse_HostileYaml_ThrowsPkiExceptionNamingTheFile(string what, string text, string expected)
    {
        var error = Assert.Throws<PkiException>(() => Kubeconfig.Parse(text, "/root/.kube/config"));

        Assert.True(error.Message.StartsWith("/root/.kube/config: ", StringComparison.Ordinal) && error.Message.Contains(expected, StringComparison.Ordinal),
            $"{what}: {error.Message}");
    }

    [Theory]
    [InlineData("duplicate key", "kind: KubeletConfiguration\ntlsCertFile: /a\ntlsCertFile: /b\n")]
    [InlineData("unknown alias", "kind: KubeletConfiguration\ntlsCertFile: *nowhere\n")]
    [InlineData("unclosed quote", "kind: KubeletConfiguration\ntlsCertFile: \"/a\n")]
    [InlineData("unclosed flow list", "kind: KubeletConfiguration\ntlsCertFile: [/a, /b\n")]
    public void ComponentConfigParse_SmallMalformedYaml_ThrowsPkiExceptionNamingTheFile(string what, string text)
    {
        var error = Assert.Throws<PkiException>(() => ComponentConfig.Parse(text, Source));

        Assert.True(error.Message.StartsWith($"{Source}: ", StringComparison.Ordinal), $"{what}: {error.Message}");
    }

    [Fact]
    public void ComponentConfigParse_RealConfigWithAnchorsAndDeepButBoundedNesting_IsRead()
    {
        var text = "kind: KubeletConfiguration\nx509: &tls\n  clientCAFile: /var/lib/kubelet/ca.crt\nauthentication:\n  x509: *tls\n"
            + "a: " + string.Concat(Enumerable.Repeat("[", 63)) + "1" + string.Concat(Enumerable.Repeat("]", 63)) + "\n";

        var config = ComponentConfig.Parse(text, Source);

        Assert.Equal("/var/lib/kubelet/ca.crt", config.Get("x509.clientCAFile"));
        Assert.Equal("1", config.Get("a" + string.Concat(Enumerable.Repeat("[0]", 63))));
        Assert.Equal("KubeletConfiguration", config.Kind);
    }
}
