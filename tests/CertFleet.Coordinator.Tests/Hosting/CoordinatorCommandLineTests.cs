using CertFleet.Coordinator.Hosting;
using CertFleet.Pki.Authorities;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Hosting;

public sealed class CoordinatorCommandLineTests : IDisposable
{
    private readonly string _folder = ScratchDirectory.Create("cmdline");
    private readonly string _caCert;
    private readonly string _caKey;
    private readonly string _otherKey;

    public CoordinatorCommandLineTests()
    {
        _caCert = Path.Combine(_folder, "ca.crt");
        _caKey = Path.Combine(_folder, "ca.key");
        _otherKey = Path.Combine(_folder, "other.key");
        Openssl.Checked("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", _caKey,
            "-out", _caCert, "-subj", "/CN=kubernetes", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
        Openssl.Checked("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", _otherKey);
    }

    [Fact]
    public void Parse_CompleteCommandLine_GivesOptions()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--ca-cert", _caCert,
            "--ca-key", _caKey, "--auto-renew-within", "30d", "--window", "Sat 02:00-04:00", "--metrics-listen", "127.0.30.9:9100"]);

        Assert.Empty(parsed.Problems);
        var options = Assert.IsType<CoordinatorOptions>(parsed.Options);
        Assert.Equal("127.0.30.9:7443", options.Listen);
        Assert.Equal([new ClusterAuthorityFiles(_caCert, _caKey)], options.ClusterAuthorities);
        Assert.Equal(TimeSpan.FromDays(30), options.AutoRenewWithin);
        Assert.Equal(new RenewalWindow(DayOfWeek.Saturday, new TimeOnly(2, 0), new TimeOnly(4, 0)), options.Window);
        Assert.Equal("127.0.30.9:9100", options.MetricsListen);
    }

    [Theory]
    [InlineData("--notify-webhook", "hooks.example/certfleet", "give an http:// or https:// URL")]
    [InlineData("--notify-webhook", "ftp://hooks.example/", "give an http:// or https:// URL")]
    [InlineData("--notify-alertmanager", "https://admin:secret@am.example:9093/", "a user or password in the URL would be written to the log")]
    public void Parse_NotifyUrlThatIsNotOne_NamesTheOptionAndWhatToGive(string option, string value, string problem)
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, option, value]);

        Assert.Null(parsed.Options);
        Assert.Contains(parsed.Problems, p => p.StartsWith(option, StringComparison.Ordinal) && p.Contains(problem, StringComparison.Ordinal));
        Assert.DoesNotContain(parsed.Problems, p => p.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NotifyUrls_AlertmanagerBaseEndsWithASlashSoItsApiGoesUnderIt()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder,
            "--notify-webhook", "https://hooks.example/certfleet?channel=ops", "--notify-alertmanager", "http://am.example:9093/prefix"]);

        Assert.Empty(parsed.Problems);
        Assert.Equal("https://hooks.example/certfleet?channel=ops", parsed.Options!.NotifyWebhook!.ToString());
        Assert.Equal("http://am.example:9093/prefix/api/v2/alerts", new Uri(parsed.Options.NotifyAlertmanager!, "api/v2/alerts").ToString());
    }

    [Theory]
    [InlineData("2w", 14 * 86400)] // weeks, as plan --expiring-within always took
    [InlineData("1d12h", 36 * 3600)]
    [InlineData("30D", 30 * 86400)]
    [InlineData("100000d", 100000L * 86400)] // the old cap, still taken
    public void Parse_AutoRenewWithinInTheOneGrammar_Taken(string text, long seconds)
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--auto-renew-within", text]);

        Assert.Empty(parsed.Problems);
        Assert.Equal(TimeSpan.FromSeconds(seconds), parsed.Options!.AutoRenewWithin);
    }

    [Fact]
    public void Parse_AutoRenewWithinNotADuration_ErrorNamesOptionValueProblemAndGrammar()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--auto-renew-within", "1mo"]);

        Assert.Equal("--auto-renew-within '1mo' is not a duration: 'mo' is not a unit: months and years have no fixed length (write 30d or 365d); "
            + "write a whole number and a unit, s, m, h, d or w (90s, 15m, 12h, 30d, 2w), or several from the largest unit down (1h30m)",
            Assert.Single(parsed.Problems));
    }

    [Fact]
    public void Parse_MissingListenAndStateDir_NamesBoth()
    {
        var parsed = CoordinatorCommandLine.Parse([]);

        Assert.Null(parsed.Options);
        Assert.Contains(parsed.Problems, p => p.StartsWith("--listen is missing", StringComparison.Ordinal));
        Assert.Contains(parsed.Problems, p => p.StartsWith("--state-dir is missing", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_CaCertWithoutKey_SaysWhichCertificateHasNoKey()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--ca-cert", _caCert]);

        Assert.Equal([$"--ca-cert {_caCert} has no --ca-key; give each CA certificate with its key (--ca-cert F --ca-key F)"], parsed.Problems);
    }

    [Fact]
    public void Parse_KeyOfAnotherCertificate_SaysTheyDoNotMatch()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--ca-cert", _caCert, "--ca-key", _otherKey]);

        var problem = Assert.Single(parsed.Problems);
        Assert.Contains($"--ca-key {_otherKey} does not match --ca-cert {_caCert}", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnreadableFiles_NamesEachFile()
    {
        var missingCert = Path.Combine(_folder, "missing.crt");
        var missingKey = Path.Combine(_folder, "missing.key");

        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--ca-cert", missingCert, "--ca-key", missingKey]);

        Assert.Equal(2, parsed.Problems.Count);
        Assert.StartsWith($"--ca-cert {missingCert}: cannot be read", parsed.Problems[0], StringComparison.Ordinal);
        Assert.StartsWith($"--ca-key {missingKey}: cannot be read", parsed.Problems[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--auto-renew-within", "30 days", "--auto-renew-within '30 days' is not a duration")]
    [InlineData("--auto-renew-within", "-5d", "--auto-renew-within '-5d' is not a duration")]
    [InlineData("--window", "Caturday 02:00-04:00", "'Caturday' is not a day of the week")]
    [InlineData("--window", "Sat 04:00-02:00", "must end after it starts")]
    [InlineData("--window", "Sat 2am", "is not DAY HH:MM-HH:MM")]
    [InlineData("--listen", "127.0.30.9", "is not HOST:PORT")]
    [InlineData("--listen", "127.0.30.9:99999", "the port must be a number from 1 to 65535")]
    public void Parse_BadValue_NamesTheOption(string option, string value, string expected)
    {
        var arguments = new List<string> { "--state-dir", _folder, "--auto-renew-within", "30d", "--listen", "127.0.30.9:7443" };
        var index = arguments.IndexOf(option);
        if (index >= 0)
        {
            arguments[index + 1] = value;
        }
        else
        {
            arguments.AddRange([option, value]);
        }

        var parsed = CoordinatorCommandLine.Parse(arguments);

        var problem = Assert.Single(parsed.Problems);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WindowWithoutAutoRenew_SaysItNeedsTheThreshold()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--window", "Sat 02:00-04:00"]);

        Assert.Contains("--window only applies to automatic renewal", Assert.Single(parsed.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadWindowWithoutAutoRenew_NamesBothProblems()
    {
        var parsed = CoordinatorCommandLine.Parse(["--listen", "127.0.30.9:7443", "--state-dir", _folder, "--window", "Sat 2am"]);

        Assert.Equal(2, parsed.Problems.Count);
        Assert.Contains(parsed.Problems, p => p.Contains("is not DAY HH:MM-HH:MM", StringComparison.Ordinal));
        Assert.Contains(parsed.Problems, p => p.StartsWith("--window only applies to automatic renewal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_SeveralErrors_ListsAllAndExitsTwo()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await CoordinatorHost.RunAsync(["--state-dir", _folder, "--ca-cert", _caCert, "--ca-key", _otherKey,
            "--auto-renew-within", "soon", "--bogus"], output, error);

        Assert.Equal(2, exitCode);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("unknown argument '--bogus'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("--listen is missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("--auto-renew-within 'soon' is not a duration", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("does not match --ca-cert", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.StartsWith("certfleet-coordinator: ", l.Replace("Run '", "certfleet-coordinator: Run '", StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    public void Dispose() => ScratchDirectory.Delete(_folder);
}
