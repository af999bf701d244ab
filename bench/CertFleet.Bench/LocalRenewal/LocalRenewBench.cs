namespace CertFleet.Bench.LocalRenewal;

internal static class LocalRenewBench
{
    public static void Run(int runs, string? certfleet) => throw new BenchException($"not yet {runs} {certfleet}");
}
