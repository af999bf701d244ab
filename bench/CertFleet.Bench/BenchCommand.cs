using CertFleet.Bench.Fleet;
using CertFleet.Bench.LocalRenewal;
using CertFleet.Bench.Signing;

namespace CertFleet.Bench;

/// <summary>The subcommands. Each prints progress lines, then one JSON object as its last line.</summary>
internal static class BenchCommand
{
    private const string Usage = """
        usage: certfleet-bench sign --count N [--key rsa2048|ecdsa-p256]
               certfleet-bench sign-hsm --count N [--key rsa2048|ecdsa-p256] [--module PATH]   (a SoftHSM2 token)
               certfleet-bench fleet --agents N [--address 127.0.22.1] [--port 7622] [--batch N] [--coordinator PATH] [--cli PATH]
                                        [--engine sqlite|postgresql]   (postgresql: a private durable server for the coordinator's state)
                                        [--lease-duration D]           (the coordinator's, e.g. 5m; default: its own, 10s)
               certfleet-bench local-renew [--runs N] [--certfleet PATH]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        try
        {
            var options = BenchArguments.Parse(args.Skip(1));
            switch (args[0])
            {
                case "sign":
                    SignBench.Run(options.Int("count", 2000), options.Text("key", "rsa2048"));
                    return 0;
                case "sign-hsm":
                    HsmSignBench.Run(options.Int("count", 2000), options.Text("key", "rsa2048"), options.Text("module", SoftHsmToken.SoftHsmModule));
                    return 0;
                case "fleet":
                    await FleetBench.RunAsync(new FleetBenchOptions(
                        options.Int("agents", 500), options.Text("address", "127.0.22.1"), options.Int("port", 7622),
                        options.Int("batch", 0), options.TextOrNull("coordinator"), options.TextOrNull("cli"),
                        FleetDatabase.ParseEngine(options.Text("engine", "sqlite")), options.TextOrNull("lease-duration"))).ConfigureAwait(false);
                    return 0;
                case "local-renew":
                    LocalRenewBench.Run(options.Int("runs", 20), options.TextOrNull("certfleet"));
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"unknown subcommand '{args[0]}'\n{Usage}").ConfigureAwait(false);
                    return 2;
            }
        }
        catch (BenchException e)
        {
            await Console.Error.WriteLineAsync("certfleet-bench: " + e.Message).ConfigureAwait(false);
            return 1;
        }
    }
}
