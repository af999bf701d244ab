using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Tests.Systemd;

/// <summary>Hand-written units with the quoting, comments and overrides operators use.</summary>
public sealed class SystemdUnitTests
{
    private static SystemdUnit Parse(string text, IReadOnlyList<string>? dropIns = null,
        IReadOnlyDictionary<string, string>? files = null) =>
        SystemdUnit.Parse("x.service", text, dropIns ?? [], path => files?.GetValueOrDefault(path));

    [Fact]
    public void Parse_DoubleAndSingleQuotes_UnquotesAsSystemd()
    {
        var unit = Parse("""
            [Service]
            ExecStart=/bin/x --a="b c" '--d=e f' "--g=h\"i" 'it'"'"'s' --tab=\t. plain\ space
            """);

        Assert.Equal(["/bin/x", "--a=b c", "--d=e f", "--g=h\"i", "it's", "--tab=\t.", "plain space"], unit.ExecStart[0]);
    }

    [Fact]
    public void Parse_EnvironmentWithQuotesAndSeveralAssignments_SetsEachVariable()
    {
        var unit = Parse("""
            [Service]
            Environment="A=1" "B=two words" C=3
            Environment='D=it is' E="x=y" not-an-assignment
            Environment=A=overridden
            """);

        Assert.Equal(
            new Dictionary<string, string> { ["A"] = "overridden", ["B"] = "two words", ["C"] = "3", ["D"] = "it is", ["E"] = "x=y" },
            unit.Environment);
    }

    [Fact]
    public void Parse_BracedAndBareVariables_ExpandLikeSystemd()
    {
        var unit = Parse("""
            [Service]
            Environment="OPTS=--v=2   --logtostderr" "PKI=/etc/kubernetes/pki"
            ExecStart=/bin/x $OPTS --tls-cert-file=${PKI}/apiserver.crt "${OPTS}" $UNSET ${UNSET} --price=$$5 --raw=$PKI
            """);

        Assert.Equal(
            ["/bin/x", "--v=2", "--logtostderr", "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt", "--v=2   --logtostderr",
                "", "--price=$5", "--raw=$PKI"],
            unit.ExecStart[0]);
        Assert.Contains(new UnitFileReference("x.service", "--tls-cert-file", "/etc/kubernetes/pki/apiserver.crt"), unit.FileReferences);
        Assert.Contains(new UnitFileReference("x.service", "PKI", "/etc/kubernetes/pki"), unit.FileReferences);
    }

    [Fact]
    public void Parse_EnvironmentFiles_OverrideEnvironmentAndOptionalMissingOneIsNoError()
    {
        var files = new Dictionary<string, string>
        {
            ["/etc/default/x"] = """
                # comment
                ; another comment
                   CERT="/etc/ssl/x cert.pem"
                KEY='/etc/ssl/x-$key.pem'
                CA=/etc/ssl/ca.pem   
                ESCAPED=a\ b\\c
                MULTI="one \
                two"
                A=from-file
                no equals sign here
                """,
        };

        var unit = Parse("""
            [Service]
            Environment=A=from-unit B=kept
            EnvironmentFile=-/etc/default/missing
            EnvironmentFile=/etc/default/x
            ExecStart=/bin/x --cert=${CERT}
            """, files: files);

        Assert.Equal(
            [new EnvironmentFileReference("/etc/default/missing", true), new EnvironmentFileReference("/etc/default/x", false)],
            unit.EnvironmentFiles);
        Assert.Equal("/etc/ssl/x cert.pem", unit.Environment["CERT"]);
        Assert.Equal("/etc/ssl/x-$key.pem", unit.Environment["KEY"]);
        Assert.Equal("/etc/ssl/ca.pem", unit.Environment["CA"]);
        Assert.Equal(@"a b\c", unit.Environment["ESCAPED"]);
        Assert.Equal("one two", unit.Environment["MULTI"]);
        Assert.Equal("from-file", unit.Environment["A"]);
        Assert.Equal("kept", unit.Environment["B"]);
        Assert.Equal(7, unit.Environment.Count);
        Assert.Equal("/etc/ssl/x cert.pem", unit.GetSetting("--cert"));
    }

    [Fact]
    public void Parse_DropInResettingExecStart_UsesOnlyTheDropInCommand()
    {
        var unit = Parse(
            """
            [Service]
            ExecStart=/usr/bin/kubelet --kubeconfig=/etc/kubernetes/old.kubeconfig
            """,
            [
                "[Service]\nEnvironment=EXTRA=--cert-dir=/var/lib/kubelet/pki\n",
                "# override\n[Service]\nExecStart=\nExecStart=/usr/local/bin/kubelet --kubeconfig /etc/kubernetes/kubelet.kubeconfig $EXTRA\n",
            ]);

        var argv = Assert.Single(unit.ExecStart);
        Assert.Equal(["/usr/local/bin/kubelet", "--kubeconfig", "/etc/kubernetes/kubelet.kubeconfig", "--cert-dir=/var/lib/kubelet/pki"], argv);
        Assert.Equal(
            [
                new UnitFileReference("x.service", "--kubeconfig", "/etc/kubernetes/kubelet.kubeconfig"),
                new UnitFileReference("x.service", "--cert-dir", "/var/lib/kubelet/pki"),
            ],
            unit.FileReferences);
    }

    [Fact]
    public void Parse_CommentsAndContinuations_AreSkippedAndJoined()
    {
        var unit = Parse("""
            # kube-proxy, hand-made
            ; old style comment
            [Unit]
            ExecStart=/not/the/service/section
            [Service]
            ExecStart=-/usr/local/bin/kube-proxy \
              # --v=4 \
              ; --dry-run \
              --kubeconfig=/etc/kubernetes/kube-proxy.kubeconfig \
              --v=2
            [Install]
            WantedBy=multi-user.target
            """);

        Assert.Equal(["/usr/local/bin/kube-proxy", "--kubeconfig=/etc/kubernetes/kube-proxy.kubeconfig", "--v=2"], Assert.Single(unit.ExecStart));
        Assert.Equal("2", unit.GetSetting("--v"));
        Assert.Equal("2", unit.GetSetting("-v"));
        Assert.Null(unit.GetSetting("--dry-run"));
        Assert.Null(unit.GetSetting("KUBECONFIG"));
    }

    [Fact]
    public void Parse_WindowsLineEndingsAndByteOrderMark_ReadLikeUnixText()
    {
        var unit = Parse("\uFEFF[Service]\r\nEnvironmentFile=/etc/default/x\r\nExecStart=/bin/x \\\r\n  --kubeconfig=${K}\r\n",
            files: new Dictionary<string, string> { ["/etc/default/x"] = "\uFEFFK=/etc/k.kubeconfig\r\n" });

        Assert.Equal(["/bin/x", "--kubeconfig=/etc/k.kubeconfig"], Assert.Single(unit.ExecStart));
    }

    [Fact]
    public void Parse_CfsslStylePaths_AreReferencedAndOtherPathsAreNot()
    {
        var unit = Parse("""
            [Service]
            Environment=KUBECONFIG=/root/.kube/config LOG_DIR=/var/log/kubernetes
            ExecStart=/opt/kubernetes/bin/kube-apiserver \
              --tls-cert-file=/etc/kubernetes/ssl/kubernetes.pem \
              --tls-private-key-file=/etc/kubernetes/ssl/kubernetes-key.pem \
              --client-ca-file=/etc/kubernetes/ssl/ca.pem \
              --service-account-key-file=/etc/kubernetes/ssl/ca-key.pem \
              --etcd-cafile /etc/etcd/ssl/ca.pem \
              --tls-sni-cert-key=/etc/kubernetes/ssl/sni.pem,/etc/kubernetes/ssl/sni-key.pem \
              --audit-policy-file=/etc/kubernetes/audit.conf \
              --log-dir=/var/log/kubernetes \
              --etcd-servers=https://10.0.0.11:2379 \
              --token-auth-file=/etc/kubernetes/token.csv \
              -v=2
            """);

        Assert.Equal(
            [
                ("--tls-cert-file", "/etc/kubernetes/ssl/kubernetes.pem"),
                ("--tls-private-key-file", "/etc/kubernetes/ssl/kubernetes-key.pem"),
                ("--client-ca-file", "/etc/kubernetes/ssl/ca.pem"),
                ("--service-account-key-file", "/etc/kubernetes/ssl/ca-key.pem"),
                ("--etcd-cafile", "/etc/etcd/ssl/ca.pem"),
                ("--tls-sni-cert-key", "/etc/kubernetes/ssl/sni.pem"),
                ("--tls-sni-cert-key", "/etc/kubernetes/ssl/sni-key.pem"),
                ("--audit-policy-file", "/etc/kubernetes/audit.conf"),
                ("KUBECONFIG", "/root/.kube/config"),
            ],
            unit.FileReferences.Select(r => (r.Setting, r.Path)));
    }

    [Theory]
    [InlineData("[Service]\nEnvironment=A=1\nExecStart=/bin/x \"--a=b\n", "x.service: line 3")]
    [InlineData("[Service]\nExecStart=/bin/x \\\n  --a='b \\\n  --c=d\n", "x.service: line 2")]
    [InlineData("[Service]\nEnvironment=\"A=1\n", "x.service: line 2")]
    public void Parse_UnbalancedQuote_ThrowsPkiExceptionNamingUnitAndLine(string text, string where)
    {
        var error = Assert.Throws<PkiException>(() => Parse(text));

        Assert.StartsWith(where + ":", error.Message);
        Assert.Contains("quote", error.Message);
    }

    [Fact]
    public void Parse_UnbalancedQuoteInDropIn_NamesTheDropIn()
    {
        var error = Assert.Throws<PkiException>(() => Parse("[Service]\nExecStart=/bin/x\n", ["[Service]\n\nExecStart='/bin/y\n"]));

        Assert.StartsWith("x.service drop-in #1: line 3:", error.Message);
    }

    [Fact]
    public void Parse_DanglingContinuation_ThrowsPkiExceptionNamingUnitAndLine()
    {
        var error = Assert.Throws<PkiException>(() => Parse("[Service]\nRestart=always\nExecStart=/bin/x \\\n  --a=b \\\n"));

        Assert.StartsWith("x.service: line 3:", error.Message);
        Assert.Contains("continuation", error.Message);
    }

    [Fact]
    public void Parse_RequiredEnvironmentFileMissing_ThrowsPkiExceptionNamingUnitLineAndFile()
    {
        var error = Assert.Throws<PkiException>(() => Parse("[Service]\nEnvironmentFile=/etc/default/gone\nExecStart=/bin/x\n"));

        Assert.StartsWith("x.service: line 2:", error.Message);
        Assert.Contains("/etc/default/gone", error.Message);
    }
}
