using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using CertFleet.Testing;

namespace CertFleet.Packaging.Tests.Deb;

/// <summary>
/// The package as an operator gets it: what dpkg sees in it, and its programs run from an unpacked copy (a real
/// coordinator on 127.0.21.2 and the NativeAOT agent enrolling from a fixture master, kubeconfigs and all).
/// </summary>
public sealed class DebPackageTests(DebPackageFixture package, EcClusterPkiFixture pki, NoWritableExecutableMemory mdwe)
    : IClassFixture<DebPackageFixture>, IClassFixture<EcClusterPkiFixture>, IClassFixture<NoWritableExecutableMemory>
{
    private const string Address = "127.0.21.2";
    private static readonly string[] Programs = ["certfleet", "certfleet-agent", "certfleet-coordinator"];

    [DebFact]
    public void Info_ControlFile_NamesPackageAndRuntimeDependencies()
    {
        var info = ProcessRunner.RunChecked("dpkg-deb", "--info", package.Deb).StandardOutput;

        Assert.Contains("Package: certfleet", info, StringComparison.Ordinal);
        Assert.Contains("Architecture: amd64", info, StringComparison.Ordinal);
        var depends = Regex.Match(info, "Depends: (.*)").Groups[1].Value;
        Assert.Contains("libc6", depends, StringComparison.Ordinal);
        Assert.Contains("libssl3", depends, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet", depends, StringComparison.Ordinal);
        Assert.DoesNotContain("libicu", depends, StringComparison.Ordinal);
    }

    [DebFact]
    public void Control_ConffilesAndScripts_AreTheConfigsAndExecutableScripts()
    {
        var control = Directory.CreateTempSubdirectory("certfleet-control").FullName;
        try
        {
            ProcessRunner.RunChecked("dpkg-deb", "--control", package.Deb, control);

            Assert.Equal(["/etc/certfleet/agent.conf", "/etc/certfleet/coordinator.conf"],
                File.ReadAllLines(Path.Combine(control, "conffiles")));
            foreach (var script in new[] { "postinst", "prerm", "postrm" })
            {
                Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(control, script)));
            }
        }
        finally
        {
            Directory.Delete(control, recursive: true);
        }
    }

    [DebFact]
    public void Contents_ProgramsUnitsAndConfigs_HaveTheirPlacesOwnersAndModes()
    {
        var entries = ProcessRunner.RunChecked("dpkg-deb", "--contents", package.Deb).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[5].TrimStart('.'), f => (Mode: f[0], Owner: f[1], Target: f.Length > 7 ? f[7] : null));

        Assert.All(entries.Values, e => Assert.Equal("root/root", e.Owner));
        foreach (var program in Programs)
        {
            Assert.Equal(("lrwxrwxrwx", $"../lib/certfleet/{program}"), (entries[$"/usr/bin/{program}"].Mode, entries[$"/usr/bin/{program}"].Target));
            Assert.Equal("-rwxr-xr-x", entries[$"/usr/lib/certfleet/{program}"].Mode);
        }
        Assert.Equal("-rw-r--r--", entries["/lib/systemd/system/certfleet-agent.service"].Mode);
        Assert.Equal("-rw-r--r--", entries["/lib/systemd/system/certfleet-coordinator.service"].Mode);
        Assert.Equal("-rw-------", entries["/etc/certfleet/agent.conf"].Mode); // it will hold the bootstrap token
        Assert.Equal("-rw-r--r--", entries["/etc/certfleet/coordinator.conf"].Mode);
        // the monitoring the README points Prometheus and Grafana at
        Assert.Equal("-rw-r--r--", entries["/usr/share/certfleet/monitoring/certfleet-alerts.yml"].Mode);
        Assert.Equal("-rw-r--r--", entries["/usr/share/certfleet/monitoring/certfleet-dashboard.json"].Mode);
    }

    [DebFact]
    public void Unpacked_EachProgram_RunsAndPrintsItsUsage()
    {
        var cli = Run("certfleet", "--help");
        var agent = Run("certfleet-agent", "--help");
        var coordinator = Run("certfleet-coordinator", "--help");

        Assert.Equal(0, cli.ExitCode);
        Assert.Contains("check-expiration", cli.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, agent.ExitCode);
        Assert.StartsWith("usage: certfleet-agent", agent.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, coordinator.ExitCode);
        Assert.Contains("--config FILE", coordinator.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, Run("certfleet", "--version").ExitCode);
    }

    [DebFact]
    public void Unpacked_ShippedConfigs_StartNothingAndEveryCommentedKeyIsKnown()
    {
        var coordinatorConf = Path.Combine(package.Root, "etc/certfleet/coordinator.conf");
        var agentConf = Path.Combine(package.Root, "etc/certfleet/agent.conf");

        var coordinator = Run("certfleet-coordinator", "--config", coordinatorConf);
        var agent = Run("certfleet-agent", "--config", agentConf);
        // uncommented, the examples would start a daemon: a bad duration on the command line stops it after checking
        var coordinatorAll = Run("certfleet-coordinator", "--config", Uncommented(coordinatorConf), "--auto-renew-within", "soon");
        var agentAll = Run("certfleet-agent", "--config", Uncommented(agentConf), "--report-interval", "soon");

        // as shipped: every line a comment, so each daemon stops at once and says what is missing
        Assert.Equal(2, coordinator.ExitCode);
        Assert.Contains("--listen is missing", coordinator.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, agent.ExitCode);
        Assert.Contains("--coordinator is required", agent.StandardError, StringComparison.Ordinal);
        // every example line, uncommented, is a key the program knows (the example paths need not exist)
        Assert.Equal(2, coordinatorAll.ExitCode);
        Assert.Contains("--auto-renew-within 'soon' is not a duration", coordinatorAll.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("expected `key: value`", coordinatorAll.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, agentAll.ExitCode);
        Assert.Contains("--report-interval 'soon'", agentAll.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("expected `key: value`", agentAll.StandardError, StringComparison.Ordinal);
    }

    [DebFact]
    public void Unpacked_CoordinatorAndAotAgent_EnrollAndReportTheMastersCertificates()
    {
        var scratch = ScratchDirectory.Create("deb-fleet");
        try
        {
            var node = pki.CopyNode("master-1");
            var caFolder = Path.Combine(node, "etc/kubernetes/pki");
            var port = FreePort();
            var admin = Path.Combine(scratch, "coordinator/admin.conf");
            // both daemons as their units run them: MemoryDenyWriteExecute=yes
            using var coordinator = new RunningProgram(mdwe.Wrapper, [Program("certfleet-coordinator"), "--listen", $"{Address}:{port}",
                "--state-dir", Path.Combine(scratch, "coordinator"), "--config", "/dev/null",
                "--ca-cert", Path.Combine(caFolder, "ca.crt"), "--ca-key", Path.Combine(caFolder, "ca.key")]);
            Eventually(() => File.Exists(admin) && Cli(admin, "status").ExitCode == 0, TimeSpan.FromSeconds(60),
                () => $"the coordinator did not answer: {coordinator.Output}");

            var join = Cli(admin, "token", "create", "--node", "master-1", "--role", "master", "--print-join-command").StandardOutput;
            var token = Regex.Match(join, @"--token (\S+)").Groups[1].Value;
            var hash = Regex.Match(join, @"--ca-hash (\S+)").Groups[1].Value;
            using var agent = new RunningProgram(mdwe.Wrapper, [Program("certfleet-agent"), "--coordinator", $"https://{Address}:{port}",
                "--node", "master-1", "--token", token, "--ca-hash", hash, "--root", node,
                "--state-dir", Path.Combine(scratch, "agent"), "--config", "/dev/null"]);
            string[] reported = [];
            Eventually(() => (reported = Reported(admin, "master-1")).Length > 0, TimeSpan.FromSeconds(60),
                () => $"the agent did not report: {agent.Output}");

            // the oracle: the packaged CLI's own scan of the same folder, kubeconfig-embedded certificates included
            var local = Identities(JsonDocument.Parse(Run("certfleet", "check-expiration", "--root", node, "-o", "json").StandardOutput).RootElement);
            Assert.Equal(local.Order(StringComparer.Ordinal), reported.Order(StringComparer.Ordinal));
            Assert.Contains(reported, r => r.Contains("/etc/kubernetes/admin.conf|kubernetes-admin", StringComparison.Ordinal));
            Assert.Equal(0, agent.Stop(TimeSpan.FromSeconds(15)));
            Assert.Equal(0, coordinator.Stop(TimeSpan.FromSeconds(15)));
        }
        finally
        {
            ScratchDirectory.Delete(scratch);
        }
    }

    [DebFact]
    public void Unpacked_NativeCli_RenewsAMasterLocallyWithItsOwnKeys()
    {
        // the packaged CLI is one NativeAOT binary: the whole local path (scan, CSRs from the keys on disk, signing,
        // backups, atomic writes, kubeconfigs) must work there as it does on the JIT host the other tests use, and
        // with no writable and executable memory (an operator may run it from a unit with MemoryDenyWriteExecute=yes)
        var node = pki.CopyNode("master-1");
        var pkiFolder = Path.Combine(node, "etc/kubernetes/pki");
        var before = Openssl.Serial(Path.Combine(pkiFolder, "apiserver.crt"));
        var publicKey = Openssl.PublicKey(Path.Combine(pkiFolder, "apiserver.crt"));

        var renew = ProcessRunner.Run(mdwe.Wrapper, [Program("certfleet"), "renew", "--local", "--ca", "--root", node], timeout: TimeSpan.FromMinutes(1));

        Assert.True(renew.ExitCode == 0, renew.Combined);
        Assert.NotEqual(before, Openssl.Serial(Path.Combine(pkiFolder, "apiserver.crt")));
        Assert.Equal(publicKey, Openssl.PublicKey(Path.Combine(pkiFolder, "apiserver.crt")));
        var verify = Openssl.Verify(Path.Combine(pkiFolder, "ca.crt"), Path.Combine(pkiFolder, "apiserver.crt"));
        Assert.True(verify.ExitCode == 0, verify.Combined);
        var check = Run("certfleet", "verify", "--local", "--root", node);
        Assert.True(check.ExitCode == 0, check.Combined);
    }

    [DebFact]
    public void Unpacked_ProgramsCopiedAlone_SayWhatIsMissing_AndTheCliStillRunsLocalCommands()
    {
        // operators copy one binary to a machine; only the coordinator keeps state in SQLite and needs
        // libe_sqlite3.so from its folder, and the demo needs the other two programs: each must say what it
        // misses before it changes anything
        var alone = ScratchDirectory.Create("copied-alone");
        try
        {
            string Copy(string name)
            {
                var copy = Path.Combine(alone, name);
                File.Copy(Path.Combine(package.Root, "usr/lib/certfleet", name), copy);
                File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
                return copy;
            }
            var cli = Copy("certfleet");
            var coordinatorProgram = Copy("certfleet-coordinator");
            var node = pki.CopyNode("worker-1");
            var temp = Path.Combine(alone, "tmp");
            Directory.CreateDirectory(temp);
            var state = Path.Combine(alone, "state");

            var check = ProcessRunner.Run(cli, ["check-expiration", "--root", node], timeout: TimeSpan.FromMinutes(1));
            // no certfleet-agent beside it, and none on PATH (an installed package's would be found there)
            var demo = ProcessRunner.Run(cli, ["demo"], timeout: TimeSpan.FromMinutes(1),
                environment: new Dictionary<string, string> { ["PATH"] = Path.Combine(alone, "no-such-folder"), ["TMPDIR"] = temp });
            var coordinator = ProcessRunner.Run(coordinatorProgram, ["--listen", $"{Address}:{FreePort()}", "--state-dir", state,
                "--config", "/dev/null"], timeout: TimeSpan.FromMinutes(1));

            Assert.True(check.ExitCode == 0, check.Combined);
            Assert.Equal(2, demo.ExitCode);
            Assert.Contains($"certfleet-agent is neither beside this certfleet ({alone}) nor on PATH", demo.StandardError, StringComparison.Ordinal);
            Assert.Contains("Install the package", demo.StandardError, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(temp)); // no sandbox written
            Assert.Equal(2, coordinator.ExitCode);
            Assert.Contains($"SQLite's library (libe_sqlite3.so) is not in {alone}", coordinator.StandardError, StringComparison.Ordinal);
            Assert.All(new[] { demo, coordinator }, run => Assert.DoesNotContain("   at ", run.Combined, StringComparison.Ordinal)); // no stack trace
            Assert.False(Directory.Exists(state)); // no fleet CA made for a coordinator that cannot start
        }
        finally
        {
            ScratchDirectory.Delete(alone);
        }
    }

    [DebFact]
    public void Unpacked_Demo_RunsTheProgramsBesideItAndRenewsTheSandbox()
    {
        // the demo as the package runs it: the native certfleet starts the native coordinator and agents from its
        // own folder, then stops them (SIGTERM) and removes the sandbox
        var temp = ScratchDirectory.Create("deb-demo");
        try
        {
            var demo = ProcessRunner.Run(Program("certfleet"), ["demo"], timeout: TimeSpan.FromMinutes(10),
                environment: new Dictionary<string, string> { ["TMPDIR"] = temp });

            Assert.True(demo.ExitCode == 0, demo.Combined);
            Assert.Contains($"Started certfleet-coordinator ({Path.Combine(package.Root, "usr/lib/certfleet/certfleet-coordinator")})",
                demo.StandardOutput, StringComparison.Ordinal);
            Assert.Matches(new Regex(@"Rollout r-\S+ completed: every step succeeded\."), demo.StandardOutput);
            Assert.Empty(Directory.GetFileSystemEntries(temp));
        }
        finally
        {
            ScratchDirectory.Delete(temp);
        }
    }

    [DebFact]
    public void Unpacked_Cli_CarriesNoServerAndNoSqlite()
    {
        // every operator's `certfleet` is a client: ASP.NET Core, Kestrel and SQLite are the coordinator's alone (the
        // demo runs the coordinator and the agents as programs of their own)
        var cli = File.ReadAllText(Path.Combine(package.Root, "usr/lib/certfleet/certfleet"), System.Text.Encoding.Latin1);
        var coordinator = File.ReadAllText(Path.Combine(package.Root, "usr/lib/certfleet/certfleet-coordinator"), System.Text.Encoding.Latin1);

        foreach (var part in new[] { "Microsoft.AspNetCore", "Kestrel", "SQLitePCL", "e_sqlite3" })
        {
            Assert.Contains(part, coordinator, StringComparison.Ordinal); // what makes the search mean something
            Assert.DoesNotContain(part, cli, StringComparison.Ordinal);
        }
    }

    [DebFact]
    public void NoWritableExecutableMemory_StopsAJit()
    {
        // what makes the tests run under it mean something: the kernel really enforces the rule on the wrapped program
        // (a JIT host is refused the executable memory it writes code into), and a native program is not
        var jit = ProcessRunner.Run(mdwe.Wrapper, ["dotnet", "--version"], timeout: TimeSpan.FromMinutes(1));
        var native = ProcessRunner.Run(mdwe.Wrapper, ["openssl", "version"], timeout: TimeSpan.FromMinutes(1));

        Assert.NotEqual(0, jit.ExitCode);
        Assert.True(native.ExitCode == 0, native.Combined);
    }

    [DebFact]
    public void Unpacked_Daemons_TellSystemdTheyAreReady()
    {
        var scratch = ScratchDirectory.Create("deb-notify");
        try
        {
            // .NET sends READY=1 only when its parent is systemd (PID 1, or a process named "systemd"): a script of
            // that name stands in, and the test holds the notification socket as PID 1 would
            var parent = Path.Combine(scratch, "systemd");
            File.WriteAllText(parent, "#!/bin/sh\n\"$@\" &\nchild=$!\ntrap 'kill -TERM $child' TERM\nwait $child\nwait $child\n");
            File.SetUnixFileMode(parent, (UnixFileMode)0b111_101_101);
            string[] coordinator = [Program("certfleet-coordinator"), "--listen", $"{Address}:{FreePort()}",
                "--state-dir", Path.Combine(scratch, "coordinator"), "--config", "/dev/null"];
            // an agent is ready once started, before it reaches its coordinator (here: nothing listens there)
            string[] agent = [Program("certfleet-agent"), "--coordinator", "https://127.0.21.4:1", "--node", "master-1",
                "--token", "t", "--ca-hash", "sha256:" + new string('0', 64), "--root", scratch,
                "--state-dir", Path.Combine(scratch, "agent"), "--config", "/dev/null"];

            foreach (var daemon in new[] { coordinator, agent })
            {
                var socketPath = Path.Combine(scratch, Path.GetFileName(daemon[0]) + ".notify");
                using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                socket.Bind(new UnixDomainSocketEndPoint(socketPath));
                socket.ReceiveTimeout = 60_000;
                using var running = new RunningProgram(parent, daemon, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath });
                var buffer = new byte[4096];

                var received = System.Text.Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer));

                Assert.Contains("READY=1", received, StringComparison.Ordinal);
                running.Stop(TimeSpan.FromSeconds(15));
            }
        }
        finally
        {
            ScratchDirectory.Delete(scratch);
        }
    }

    [DebFact]
    public void Postinst_ScratchRoot_CreatesUserAndStateFolders0700_PurgeKeepsTheCoordinatorsState()
    {
        var root = ScratchDirectory.Create("deb-postinst");
        try
        {
            var control = Path.Combine(root, "DEBIAN");
            ProcessRunner.RunChecked("dpkg-deb", "--control", package.Deb, control);
            ProcessRunner.RunChecked("cp", "-a", Path.Combine(package.Root, "etc"), root);
            foreach (var file in new[] { "passwd", "group", "shadow", "gshadow", "login.defs" })
            {
                File.Copy(Path.Combine("/etc", file), Path.Combine(root, "etc", file));
            }
            var environment = new Dictionary<string, string> { ["DPKG_ROOT"] = root };

            var configure = ProcessRunner.Run("sh", [Path.Combine(control, "postinst"), "configure", ""], environment: environment);
            var again = ProcessRunner.Run("sh", [Path.Combine(control, "postinst"), "configure", "0.1.0"], environment: environment);

            Assert.True(configure.ExitCode == 0, configure.Combined);
            Assert.True(again.ExitCode == 0, again.Combined); // an upgrade finds the user and the folders there
            var user = File.ReadAllLines(Path.Combine(root, "etc/passwd")).Single(l => l.StartsWith("certfleet:", StringComparison.Ordinal)).Split(':');
            Assert.Equal("/usr/sbin/nologin", user[6]);
            foreach (var folder in new[] { "var/lib/certfleet-coordinator", "var/lib/certfleet-agent", "var/lib/certfleet" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                    File.GetUnixFileMode(Path.Combine(root, folder)));
            }
            var owner = ProcessRunner.RunChecked("stat", "-c", "%u", Path.Combine(root, "var/lib/certfleet-coordinator")).StandardOutput.Trim();
            Assert.Equal(user[2], owner);

            var purge = ProcessRunner.Run("sh", [Path.Combine(control, "postrm"), "purge"], environment: environment);

            Assert.True(purge.ExitCode == 0, purge.Combined);
            Assert.False(Directory.Exists(Path.Combine(root, "var/lib/certfleet-agent")));
            Assert.False(File.Exists(Path.Combine(root, "etc/certfleet/agent.conf")));
            Assert.True(Directory.Exists(Path.Combine(root, "var/lib/certfleet-coordinator")));
            Assert.Contains("/var/lib/certfleet-coordinator is kept", purge.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            ScratchDirectory.Delete(root);
        }
    }

    private string Program(string name) => Path.Combine(package.Root, "usr/bin", name);

    private ProcessResult Run(string program, params string[] arguments) =>
        ProcessRunner.Run(Program(program), arguments, timeout: TimeSpan.FromMinutes(1));

    private ProcessResult Cli(string admin, params string[] arguments) =>
        ProcessRunner.Run(Program("certfleet"), arguments, timeout: TimeSpan.FromMinutes(1),
            environment: new Dictionary<string, string> { ["CERTFLEET_CONFIG"] = admin });

    /// <summary>The node's reported certificates as "path|kubeconfig user|serial", once it has reported.</summary>
    private string[] Reported(string admin, string node)
    {
        var status = Cli(admin, "status", "-o", "json");
        if (status.ExitCode != 0)
        {
            return [];
        }
        var nodes = JsonDocument.Parse(status.StandardOutput).RootElement.GetProperty("nodes").EnumerateArray();
        var entry = nodes.FirstOrDefault(n => n.GetProperty("name").GetString() == node);
        return entry.ValueKind == JsonValueKind.Object && entry.GetProperty("connected").GetBoolean()
            ? Identities(entry.GetProperty("certificates"))
            : [];
    }

    private static string[] Identities(JsonElement certificates) =>
        certificates.EnumerateArray()
            .Select(c => $"{c.GetProperty("path").GetString()}|{c.GetProperty("kubeconfigUser").GetString()}|{c.GetProperty("serial").GetString()}")
            .ToArray();

    private static string Uncommented(string config)
    {
        var copy = Path.Combine(Path.GetDirectoryName(config)!, "uncommented-" + Path.GetFileName(config));
        File.WriteAllLines(copy, File.ReadAllLines(config).Select(l => Regex.IsMatch(l, "^#[a-z-]+: ") ? l[1..] : l));
        return copy;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Parse(Address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Eventually(Func<bool> condition, TimeSpan limit, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(failure());
            }
            Thread.Sleep(500);
        }
    }
}
