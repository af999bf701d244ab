using System.Text;
using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Pki.Tests.Kubeconfigs;

public sealed class KubeconfigGarbageTests
{
    private const string Source = "/etc/kubernetes/broken.kubeconfig";

    public static TheoryData<string, string, int> Garbage() => new()
    {
        { "binary", System.Text.Encoding.Latin1.GetString(Enumerable.Range(0, 512).Select(i => (byte)(i * 7 % 256)).ToArray()), 0 },
        { "tab indentation", "kind: Config\nusers:\n- name: u\n  user:\n\tclient-key: /k\n", 5 },
        { "tab after spaces", "kind: Config\nusers:\n- name: u\n  user:\n    client-key: /k\n\t  x: 1\n", 6 },
        { "a YAML list", "- kind: Config\n- users: []\n", 1 },
        { "truncated", "kind: Config\nusers:\n- name: u\n  user:\n    client-key-data: \"S0VZLW9u", 5 },
        { "unclosed flow mapping", "kind: Config\nclusters:\n- cluster: {server: https://x\n", 4 },
        { "another kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", 2 },
        { "no clusters or users", "apiVersion: v1\nclusters: []\n", 1 },
        { "users is a mapping", "kind: Config\nusers:\n  admin: {}\n", 3 },
        { "empty", "", 1 },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void Parse_Garbage_ThrowsPkiExceptionNamingFileAndLine(string what, string text, int line)
    {
        var error = Assert.Throws<PkiException>(() => Kubeconfig.Parse(text, Source));

        var expectedStart = line > 0 ? $"{Source}: line {line}," : $"{Source}: line ";
        Assert.True(error.Message.StartsWith(expectedStart, StringComparison.Ordinal) ||
            error.Message.StartsWith($"{Source}: line {line}:", StringComparison.Ordinal), $"{what}: {error.Message}");
    }

    [Theory]
    [InlineData("kind: Config\n")]
    [InlineData("\uFEFFkind: \"Config\" # comment\n")]
    [InlineData("clusters:\n- name: a\nusers: []\n")]
    public void LooksLikeKubeconfig_TopLevelMarkers_IsTrue(string text)
    {
        Assert.True(Kubeconfig.LooksLikeKubeconfig(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("clusters: []\n")]
    [InlineData("spec:\n  kind: Config\n")]
    [InlineData("kind: ConfigMap\n")]
    [InlineData("\0\u0001\u00ff binary")]
    public void LooksLikeKubeconfig_OtherText_IsFalse(string text)
    {
        Assert.False(Kubeconfig.LooksLikeKubeconfig(text));
    }
}
