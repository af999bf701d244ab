using System.CommandLine;

namespace CertFleet.Cli.Demo;

/// <summary>
/// `certfleet demo unit restart|health UNIT --root DIR` (hidden): the sandbox's stand-in for systemctl, given to the
/// demo's agents as --restart-command and --health-command. etcd is real when installed; the Kubernetes binaries
/// are not part of the sandbox, so their restarts are only reported.
/// </summary>
internal static class SandboxUnitCommand
{
    public static Command Create(CliContext context)
    {
        var unit = new Argument<string>("UNIT");
        var root = new Option<string>("--root") { Required = true };
        var restart = new Command("restart") { unit, root };
        restart.SetAction(parsed =>
        {
            var name = parsed.GetValue(unit)!;
            if (IsEtcd(name) && SandboxEtcd.IsInstalled())
            {
                var etcd = new SandboxEtcd(parsed.GetValue(root)!);
                etcd.Stop();
                etcd.Start();
                context.Output.WriteLine($"restarted etcd under {parsed.GetValue(root)}");
            }
            else
            {
                context.Output.WriteLine($"{name}: simulated restart (not installed in the sandbox)");
            }
            return ExitCodes.Success;
        });
        var health = new Command("health") { unit, root };
        health.SetAction(async (parsed, cancellation) =>
        {
            var name = parsed.GetValue(unit)!;
            if (!IsEtcd(name) || !SandboxEtcd.IsInstalled())
            {
                context.Output.WriteLine($"{name}: simulated, healthy");
                return ExitCodes.Success;
            }
            var (healthy, detail) = await new SandboxEtcd(parsed.GetValue(root)!).CheckAsync(cancellation);
            context.Output.WriteLine(detail);
            return healthy ? ExitCodes.Success : ExitCodes.ProblemsFound;
        });
        return new Command("unit", "The sandbox's stand-in for systemctl") { restart, health };
    }

    private static bool IsEtcd(string unit) => unit is "etcd" or "etcd.service";
}
