using CertFleet.Cli.Demo;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Demo;

/// <summary>Where `certfleet demo` finds the two programs it runs: beside certfleet, on PATH, in a clone's build output.</summary>
public sealed class DemoProgramsTests : IDisposable
{
    private readonly string _scratch = ScratchDirectory.Create("demo-programs");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public void Find_BesideCertfleetAndOnPath_TakesTheOnesBesideCertfleet()
    {
        var own = Folder("usr-lib-certfleet");
        var path = Folder("path");
        foreach (var folder in new[] { own, path })
        {
            Program(folder, "certfleet-coordinator");
            Program(folder, "certfleet-agent");
        }

        var found = DemoPrograms.Find(own, path, out var problem);

        Assert.Null(problem);
        Assert.Equal((Path.Combine(own, "certfleet-coordinator"), Path.Combine(own, "certfleet-agent")),
            (found!.Value.Coordinator.FileName, found.Value.Agent.FileName));
        Assert.Empty(found.Value.Coordinator.Arguments);
    }

    [Fact]
    public void Find_OnPathOnly_TakesTheFirstPathFolderThatHasIt()
    {
        var own = Folder("own");
        var empty = Folder("empty");
        var bin = Folder("bin");
        Program(bin, "certfleet-coordinator");
        Program(bin, "certfleet-agent");
        File.WriteAllText(Path.Combine(empty, "certfleet-agent"), "not executable");

        var found = DemoPrograms.Find(own, $"{empty}::{bin}", out _);

        Assert.Equal(Path.Combine(bin, "certfleet-agent"), found!.Value.Agent.FileName);
        Assert.Equal(Path.Combine(bin, "certfleet-coordinator"), found.Value.Coordinator.Location);
    }

    [Fact]
    public void Find_CloneBuildOutputAndAnInstalledPackage_RunsTheCloneBuiltDllsWithThisDotnet()
    {
        // as `dotnet build` of the CLI leaves it: the list names each program's .dll in its own output folder
        var own = Folder("cli-bin");
        var coordinator = Path.Combine(Folder("coordinator-bin"), "certfleet-coordinator.dll");
        var agent = Path.Combine(Folder("agent-bin"), "certfleet-agent.dll");
        File.WriteAllText(coordinator, "");
        File.WriteAllText(agent, "");
        File.WriteAllLines(Path.Combine(own, DemoPrograms.BuildOutputFile), [$"certfleet-coordinator={coordinator}", $"certfleet-agent={agent}"]);
        // an older release installed on the same machine: the clone's own programs still win
        var usrBin = Folder("usr-bin");
        Program(usrBin, "certfleet-coordinator");
        Program(usrBin, "certfleet-agent");

        var found = DemoPrograms.Find(own, usrBin, out var problem);

        // the tests run on the dotnet host, as `dotnet certfleet.dll demo` does
        Assert.Null(problem);
        Assert.Equal(Environment.ProcessPath, found!.Value.Coordinator.FileName);
        Assert.Equal([coordinator], found.Value.Coordinator.Arguments);
        Assert.Equal([agent], found.Value.Agent.Arguments);
        Assert.Equal(coordinator, found.Value.Coordinator.Location);
        Assert.True(found.Value.Coordinator.Jit);
    }

    [Fact]
    public void Find_AgentNowhere_NamesTheAgentAndHowToGetIt()
    {
        var own = Folder("own");
        Program(own, "certfleet-coordinator");

        var found = DemoPrograms.Find(own, Folder("path"), out var problem);

        Assert.Null(found);
        Assert.Contains($"certfleet-agent is neither beside this certfleet ({own}) nor on PATH", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("certfleet-coordinator is", problem, StringComparison.Ordinal);
        Assert.Contains("Install the package", problem, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project src/CertFleet.Cli -- demo", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_NeitherAnywhere_NamesBoth()
    {
        DemoPrograms.Find(Folder("own"), null, out var problem);

        Assert.Contains("certfleet-coordinator and certfleet-agent are neither beside", problem, StringComparison.Ordinal);
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_scratch, name)).FullName;

    private static void Program(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }
}
