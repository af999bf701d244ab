using System.Globalization;
using System.Text.RegularExpressions;
using CertFleet.Testing;

namespace CertFleet.Packaging.Tests.Systemd;

/// <summary>The units as systemd itself judges them: verify finds nothing, and the exposure stays in its limit.</summary>
public sealed partial class SystemdUnitTests : IDisposable
{
    private readonly UnitRoot _root = new();

    [Fact]
    public void Verify_BothUnits_ReportsNothing()
    {
        var result = ProcessRunner.Run("systemd-analyze", ["verify", $"--root={_root.Directory}", .. UnitRoot.Units],
            timeout: TimeSpan.FromMinutes(1));

        // verify also exits 0 for an unknown key or a bad value, which it only prints: clean means silent
        Assert.True(result.ExitCode == 0 && result.Combined.Trim().Length == 0, $"systemd-analyze verify: {result.Combined}");
    }

    [Theory]
    [InlineData("certfleet-coordinator.service", 2.5)]
    [InlineData("certfleet-agent.service", 4.5)]
    public void Security_Offline_ExposureWithinLimit(string unit, double limit)
    {
        var exposure = Exposure(unit);

        Assert.True(exposure <= limit, $"{unit}: exposure {exposure}, more than {limit}");
    }

    [Fact]
    public void Security_Coordinator_CannotMakeWritableExecutableMemory()
    {
        // the coordinator holds the CA keys and runs no other program: as a native binary it needs no JIT, so the unit
        // takes away writable-and-executable memory (the agent's unit cannot: its restart and health commands inherit it)
        Assert.Matches(@"✓ MemoryDenyWriteExecute=", Security("certfleet-coordinator.service"));
    }

    [Fact]
    public void Security_UnhardenedUnit_IsRatedAboveTheLimits()
    {
        // the parsing must see a bad rating when there is one, or the limits above prove nothing
        File.WriteAllText(Path.Combine(_root.Directory, "lib/systemd/system/plain.service"),
            "[Service]\nExecStart=/usr/bin/certfleet-agent\n");

        Assert.True(Exposure("plain.service") > 4.5);
    }

    public void Dispose() => _root.Dispose();

    private double Exposure(string unit)
    {
        var report = Security(unit);
        var match = OverallExposure().Match(report);
        Assert.True(match.Success, $"no overall exposure in systemd-analyze security's output: {report}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>systemd-analyze security's report on <paramref name="unit"/>, judged offline from the unit file.</summary>
    private string Security(string unit) =>
        ProcessRunner.Run("systemd-analyze", ["security", "--offline=yes", $"--root={_root.Directory}", "--no-pager", unit],
            timeout: TimeSpan.FromMinutes(1)).Combined;

    [GeneratedRegex(@"Overall exposure level for \S+: (\d+\.\d+)")]
    private static partial Regex OverallExposure();
}
