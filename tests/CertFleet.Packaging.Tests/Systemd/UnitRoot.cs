using CertFleet.Testing;

namespace CertFleet.Packaging.Tests.Systemd;

/// <summary>
/// A scratch root for `systemd-analyze --root=`: the package's units in /lib/systemd/system, the host's targets
/// and slices (the units' default dependencies), and an executable stand-in at each ExecStart= path, which verify
/// checks exists. The units are checked as they are in packaging/, not as installed on this machine.
/// </summary>
internal sealed class UnitRoot : IDisposable
{
    public static readonly string[] Units = ["certfleet-agent.service", "certfleet-coordinator.service"];

    public UnitRoot()
    {
        Directory = ScratchDirectory.Create("unitroot");
        var system = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "lib/systemd/system")).FullName;
        foreach (var pattern in new[] { "*.target", "*.slice" })
        {
            foreach (var file in System.IO.Directory.GetFiles("/lib/systemd/system", pattern))
            {
                File.Copy(file, Path.Combine(system, Path.GetFileName(file)));
            }
        }
        foreach (var unit in Units)
        {
            File.Copy(Path.Combine(SharedFixtures.RepositoryRoot, "packaging/systemd", unit), Path.Combine(system, unit));
        }
        var bin = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "usr/bin")).FullName;
        foreach (var program in new[] { "certfleet-agent", "certfleet-coordinator" })
        {
            var path = Path.Combine(bin, program);
            File.WriteAllText(path, "#!/bin/sh\n");
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
    }

    public string Directory { get; }

    public void Dispose() => ScratchDirectory.Delete(Directory);
}
