namespace CertFleet.Bench.Fleet;

internal sealed record FleetBenchOptions(int Agents, string Address, int Port, int BatchSize);

internal static class FleetBench
{
    public static Task RunAsync(FleetBenchOptions options) => throw new BenchException($"not yet {options}");
}
