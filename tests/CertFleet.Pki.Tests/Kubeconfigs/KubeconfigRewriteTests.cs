using CertFleet.Pki.Kubeconfigs;

namespace CertFleet.Pki.Tests.Kubeconfigs;

/// <summary>A kubeconfig a person wrote by hand: comments, odd key order, quotes, extra fields.</summary>
public sealed class KubeconfigRewriteTests
{
    private const string Source = "/etc/kubernetes/hand.kubeconfig";

    private const string HandWritten = """
        # written by hand during the 2023 outage - do not regenerate
        kind: Config
        preferences: {colors: true}
        users:
          # the admin, with embedded data
          - user:
              client-key-data: "S0VZLW9uZQ=="   # quoted base64
              exec-timeout: 30s
              client-certificate-data: Q0VSVC1vbmU=
            name: admin
          - name: 'ops team'
            user:
              client-certificate: '/etc/kubernetes/ssl/ops.pem'
              client-key: /etc/kubernetes/ssl/ops-key.pem
              token-file: "/var/run/token"
        apiVersion: v1
        clusters:
        - name: prod
          cluster:
            server: "https://10.0.0.100:6443"   # VIP
            certificate-authority: /etc/kubernetes/ssl/ca.pem
            insecure-skip-tls-verify: false
        - cluster: {server: https://10.0.9.1:6443, certificate-authority-data: Q0EtdHdv}
          name: lab
        contexts: []
        current-context: ""

        """;

    [Fact]
    public void Parse_HandWrittenKubeconfig_ReadsEveryUserAndClusterInOrder()
    {
        var kubeconfig = Kubeconfig.Parse(HandWritten, Source);

        Assert.Equal(["admin", "ops team"], kubeconfig.Users.Select(u => u.Name));
        Assert.Equal("S0VZLW9uZQ==", kubeconfig.Users[0].ClientKeyData?.Text);
        Assert.Equal("CERT-one"u8.ToArray(), Kubeconfig.DecodeData(kubeconfig.Users[0].ClientCertificateData!, Source));
        Assert.Equal("/etc/kubernetes/ssl/ops.pem", kubeconfig.Users[1].ClientCertificate?.Text);
        Assert.Equal(["prod", "lab"], kubeconfig.Clusters.Select(c => c.Name));
        Assert.Equal("https://10.0.0.100:6443", kubeconfig.Clusters[0].Server);
        Assert.Equal("https://10.0.9.1:6443", kubeconfig.Clusters[1].Server);
        Assert.Equal("CA-two"u8.ToArray(), Kubeconfig.DecodeData(kubeconfig.Clusters[1].CertificateAuthorityData!, Source));
    }

    [Fact]
    public void Rewrite_ValuesOfEveryStyle_ChangesOnlyTheirSpansAndKeepsTheirQuoting()
    {
        var kubeconfig = Kubeconfig.Parse(HandWritten, Source);
        var admin = kubeconfig.Users[0];
        var ops = kubeconfig.Users[1];
        var replacements = new Dictionary<KubeconfigValue, string>
        {
            [admin.ClientKeyData!] = "TkVXLWtleQ==",
            [admin.ClientCertificateData!] = "TkVXLWNlcnQ=",
            [ops.ClientCertificate!] = "/etc/kubernetes/ssl/ops-2027.pem",
            [ops.ClientKey!] = "/etc/kubernetes/ssl/ops-2027-key.pem",
            [kubeconfig.Clusters[1].CertificateAuthorityData!] = "TkVXLWNh",
        };

        var rewritten = kubeconfig.Rewrite(replacements);

        var expected = HandWritten
            .Replace("\"S0VZLW9uZQ==\"   # quoted", "\"TkVXLWtleQ==\"   # quoted")
            .Replace("client-certificate-data: Q0VSVC1vbmU=", "client-certificate-data: TkVXLWNlcnQ=")
            .Replace("'/etc/kubernetes/ssl/ops.pem'", "'/etc/kubernetes/ssl/ops-2027.pem'")
            .Replace("client-key: /etc/kubernetes/ssl/ops-key.pem", "client-key: /etc/kubernetes/ssl/ops-2027-key.pem")
            .Replace("certificate-authority-data: Q0EtdHdv}", "certificate-authority-data: TkVXLWNh}");
        Assert.NotEqual(HandWritten, expected);
        Assert.Equal(expected, rewritten);
        var reread = Kubeconfig.Parse(rewritten, Source);
        Assert.Equal("/etc/kubernetes/ssl/ops-2027.pem", reread.Users[1].ClientCertificate?.Text);
        Assert.Equal("/etc/kubernetes/ssl/ca.pem", reread.Clusters[0].CertificateAuthority?.Text);
    }

    [Fact]
    public void Rewrite_NoReplacements_ReturnsTheTextUnchanged()
    {
        Assert.Equal(HandWritten, Kubeconfig.Parse(HandWritten, Source).Rewrite([]));
    }

    [Theory]
    [InlineData("client-key: 'it''s.key'", "/etc/it's-new.key", "client-key: '/etc/it''s-new.key'")]
    [InlineData("client-key: \"/a b.key\"", "/c\"d\\e.key", "client-key: \"/c\\\"d\\\\e.key\"")]
    [InlineData("client-key: /a.key", "/with space: colon.key", "client-key: \"/with space: colon.key\"")]
    [InlineData("client-key: /a.key", "12345", "client-key: \"12345\"")]
    [InlineData("client-key:", "/new.key", "client-key: /new.key")]
    [InlineData("client-key: !!str &k /a.key", "/b.key", "client-key: !!str &k /b.key")]
    public void Rewrite_OddValues_WritesValidYamlInTheOriginalStyle(string line, string newValue, string expectedLine)
    {
        var text = $"kind: Config\nusers:\n- name: u\n  user:\n    {line}\n    client-certificate: /a.crt\nclusters: []\n";
        var kubeconfig = Kubeconfig.Parse(text, Source);

        var rewritten = kubeconfig.Rewrite([new(kubeconfig.Users[0].ClientKey!, newValue)]);

        Assert.Equal(text.Replace(line, expectedLine), rewritten);
        Assert.Equal(newValue, Kubeconfig.Parse(rewritten, Source).Users[0].ClientKey?.Text);
    }

    [Fact]
    public void Rewrite_BlockScalar_BecomesOneQuotedLineAndTheNextKeyStays()
    {
        const string text = "kind: Config\nusers:\n- name: u\n  user:\n    client-certificate-data: |\n      Q0VS\n      VA==\n    client-key: /k.pem\n";
        var kubeconfig = Kubeconfig.Parse(text, Source);
        Assert.Equal("CERT"u8.ToArray(), Kubeconfig.DecodeData(kubeconfig.Users[0].ClientCertificateData!, Source));

        var rewritten = kubeconfig.Rewrite([new(kubeconfig.Users[0].ClientCertificateData!, "TkVX")]);

        Assert.Equal("kind: Config\nusers:\n- name: u\n  user:\n    client-certificate-data: \"TkVX\"\n    client-key: /k.pem\n", rewritten);
    }

    [Fact]
    public void Rewrite_WindowsLineEndings_KeepsThem()
    {
        const string text = "kind: Config\r\nusers:\r\n- name: u\r\n  user:\r\n    client-key: /old.key # note\r\n";
        var kubeconfig = Kubeconfig.Parse(text, Source);

        var rewritten = kubeconfig.Rewrite([new(kubeconfig.Users[0].ClientKey!, "/new.key")]);

        Assert.Equal(text.Replace("/old.key", "/new.key"), rewritten);
    }

    [Fact]
    public void Rewrite_FileStartingWithByteOrderMark_ReplacesExactlyTheValue()
    {
        const string text = "\uFEFFkind: Config\nusers:\n- name: u\n  user:\n    client-key: /old.key\n";
        var kubeconfig = Kubeconfig.Parse(text, Source);

        var rewritten = kubeconfig.Rewrite([new(kubeconfig.Users[0].ClientKey!, "/new.key")]);

        Assert.Equal(text.Replace("/old.key", "/new.key"), rewritten);
    }

    [Fact]
    public void Rewrite_ValueOfAnotherDocument_ThrowsPkiExceptionNamingTheFile()
    {
        var kubeconfig = Kubeconfig.Parse(HandWritten, Source);
        var stranger = new KubeconfigValue("client-key", "/etc/kubernetes/ssl/ops-key.pem", 1, 20);

        var error = Assert.Throws<PkiException>(() => kubeconfig.Rewrite([new(stranger, "/x.pem")]));

        Assert.Contains(Source, error.Message);
        Assert.Contains("client-key", error.Message);
    }

    [Fact]
    public void DecodeData_NotBase64_ThrowsPkiExceptionNamingFileAndKey()
    {
        var value = new KubeconfigValue("client-key-data", "not*base64!", 10, 21);

        var error = Assert.Throws<PkiException>(() => Kubeconfig.DecodeData(value, Source));

        Assert.Contains(Source, error.Message);
        Assert.Contains("client-key-data", error.Message);
    }

    [Fact]
    public void EncodeData_Bytes_IsOneLineBase64ThatDecodesBack()
    {
        var bytes = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();

        var encoded = Kubeconfig.EncodeData(bytes);

        Assert.DoesNotContain('\n', encoded);
        Assert.Equal(bytes, Kubeconfig.DecodeData(new KubeconfigValue("client-certificate-data", encoded, 0, 0), Source));
    }
}
