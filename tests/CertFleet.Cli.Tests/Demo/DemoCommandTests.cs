using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Demo;

/// <summary>The CLI as built: no server inside it, and a demo that says what it misses before it writes anything.</summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _scratch = ScratchDirectory.Create("demo-command");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public void Build_CliOutput_NoServerNoSqliteAndTheDemoProgramsNamed()
    {
        var output = Path.GetDirectoryName(Programs.Dll("certfleet"))!;
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).ToList();
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "certfleet.runtimeconfig.json")));
        var programs = File.ReadAllLines(Path.Combine(output, "certfleet.demo-programs"));

        Assert.DoesNotContain(files, f => f.Contains("sqlite", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(files, f => f.Contains("AspNetCore", StringComparison.Ordinal) || f.Contains("Kestrel", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.StartsWith("certfleet-", StringComparison.Ordinal));
        // a framework-dependent certfleet needs the .NET runtime only, not ASP.NET Core's
        Assert.DoesNotContain("Microsoft.AspNetCore.App", runtimeConfig.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(["certfleet-agent", "certfleet-coordinator"], programs.Select(p => p.Split('=')[0]).Order(StringComparer.Ordinal));
        Assert.All(programs, p => Assert.True(File.Exists(p.Split('=', 2)[1]), p));
    }

    [Fact]
    public void Demo_AgentNotFound_SaysWhichAndHowExitsTwoAndWritesNoSandbox()
    {
        var cli = CopyOfTheCli();
        Script(cli, "certfleet-coordinator", "exit 0");

        var run = Demo(cli);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("certfleet demo: the demo runs certfleet-coordinator and certfleet-agent as processes of their own, "
            + $"and certfleet-agent is neither beside this certfleet ({cli}) nor on PATH.", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(run.StandardOutput);
        Assert.Empty(Directory.GetFileSystemEntries(Temp));
    }

    [Fact]
    public void Demo_CoordinatorStopsAtStart_SaysSoWithItsLastLinesAndRemovesTheSandbox()
    {
        var cli = CopyOfTheCli();
        Script(cli, "certfleet-coordinator", "echo \"certfleet-coordinator: cannot listen on $2: address in use\" >&2; exit 1");
        Script(cli, "certfleet-agent", "exit 0");

        var run = Demo(cli);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("certfleet demo: certfleet-coordinator exited with code 1; its last lines", run.StandardError, StringComparison.Ordinal);
        Assert.Matches(@"certfleet-coordinator: cannot listen on 127\.0\.40\.1:\d+: address in use", run.StandardError);
        Assert.Contains("Cleaned up", run.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Temp));
    }

    private string Temp => Directory.CreateDirectory(Path.Combine(_scratch, "tmp")).FullName;

    /// <summary>The CLI's build output without the list of the programs' build outputs: a certfleet that has only its own folder and PATH.</summary>
    private string CopyOfTheCli()
    {
        var cli = Directory.CreateDirectory(Path.Combine(_scratch, "cli")).FullName;
        var built = Path.GetDirectoryName(Programs.Dll("certfleet"))!;
        foreach (var file in Directory.GetFiles(built).Where(f => Path.GetFileName(f) != "certfleet.demo-programs"))
        {
            File.Copy(file, Path.Combine(cli, Path.GetFileName(file)));
        }
        return cli;
    }

    private static void Script(string folder, string name, string body)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    /// <summary>
    /// `certfleet demo` from <paramref name="cli"/> with this test's dotnet, nothing on PATH (no etcd either: nothing starts on
    /// the sandbox's fixed addresses).
    /// </summary>
    private ProcessResult Demo(string cli) =>
        ProcessRunner.Run(Environment.ProcessPath!, [Path.Combine(cli, "certfleet.dll"), "demo"], timeout: TimeSpan.FromMinutes(2),
            environment: new Dictionary<string, string> { ["PATH"] = Path.Combine(_scratch, "no-such-folder"), ["TMPDIR"] = Temp });
}
