using CertFleet.Cli.Commands;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Cli.Demo;

/// <summary>
/// `certfleet demo --rekey-ca`: after the renewal, every cluster CA of the sandbox gets a new key through the request
/// `certfleet renew --all --rekey-ca --wait` sends, shown as the CLI shows it (plan, then the rollout step by step);
/// then each CA's old and new key, and a check of every node's files made apart from the coordinator and the agents
/// (<see cref="SandboxRekeyCheck"/>), so the demo does not take the rollout's word for it.
/// </summary>
internal sealed class DemoRekeyChapter(CliContext context, string sandbox, SandboxLayout layout, string stateDirectory, bool realEtcd)
{
    private TextWriter Out => context.Output;

    /// <returns>True when the re-key completed and every check held.</returns>
    public async Task<bool> RunAsync(AdminService.AdminServiceClient admin, CancellationToken cancellation)
    {
        var nodes = layout.Nodes.ToDictionary(node => node, node => Path.Combine(sandbox, node));
        // the leaves' keys before, to show afterwards that each leaf kept its own
        var keysBefore = nodes.ToDictionary(n => n.Key, n => SandboxRekeyCheck.LeafKeys(n.Value, context.Time));

        var request = new RolloutRequest { All = true, RekeyCa = new RekeyCa() };
        Section("A new key for every cluster CA: the plan (certfleet plan --rekey-ca)");
        int exitCode;
        try
        {
            RolloutOutput.WritePlan(Out, await admin.PlanWholeAsync(request, cancellation), detail: false);
            Section("The re-key (certfleet renew --all --rekey-ca --wait)");
            exitCode = await FleetRenewal.RunAsync(context, admin, request, wait: true, detail: false, cancellation);
        }
        catch (RpcException e) when (e.StatusCode is not StatusCode.Cancelled)
        {
            // a re-key the coordinator refuses (a node it cannot rotate, a weaker key), or a watch that broke off: the
            // product's answer, said as such, not a crash
            throw new DemoFailedException($"the sandbox's re-key failed at the coordinator ({e.StatusCode}): {e.Status.Detail}; "
                + $"its log is {Path.Combine(sandbox, "coordinator.log")} (certfleet demo --rekey-ca --keep keeps it)");
        }
        if (exitCode != ExitCodes.Success)
        {
            return false;
        }

        var authorities = ReplacedAuthority.ReadAll(stateDirectory);
        Section($"The cluster CAs, old and new (the coordinator's {Path.Combine(stateDirectory, "authorities", "rekey")})");
        WriteAuthorities(authorities);

        Section("Every leaf on every node against the new CAs (the sandbox's files, read by CertFleet's scanner)");
        var allHeld = true;
        foreach (var (node, root) in nodes)
        {
            var check = SandboxRekeyCheck.Check(root, authorities, keysBefore[node], context.Time);
            Out.WriteLine($"{node,-10} {check.Summary}");
            foreach (var problem in check.Problems)
            {
                Out.WriteLine($"  {problem}");
            }
            allHeld &= check.Problems.Count == 0;
        }
        if (realEtcd)
        {
            // the check reads the node's ca.crt and apiserver-etcd-client pair, both re-keyed by now
            var (healthy, detail) = await new SandboxEtcd(nodes["master-1"]).CheckAsync(cancellation);
            Out.WriteLine();
            Out.WriteLine($"etcd {(healthy ? "is healthy" : "is NOT healthy")} under the new CA: {detail}");
            allHeld &= healthy;
        }
        return allHeld;
    }

    private void WriteAuthorities(IReadOnlyList<ReplacedAuthority> authorities)
    {
        var width = Math.Max("CA".Length, authorities.Max(a => a.Name.Length));
        Out.WriteLine($"{"CA".PadRight(width)}  {"old key id",-10}  {"old serial",-34}  {"new key id",-10}  new serial");
        foreach (var authority in authorities)
        {
            Out.WriteLine($"{authority.Name.PadRight(width)}  {authority.Old.ShortKeyId,-10}  {authority.Old.SerialHex,-34}  "
                + $"{authority.New.ShortKeyId,-10}  {authority.New.SerialHex}");
        }
    }

    private void Section(string title)
    {
        Out.WriteLine();
        Out.WriteLine($"== {title}");
    }
}
