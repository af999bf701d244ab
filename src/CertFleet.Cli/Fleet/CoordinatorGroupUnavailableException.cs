using Grpc.Core;

namespace CertFleet.Cli.Fleet;

/// <summary>No coordinator of the group answered a call: each one, in the order tried, and why.</summary>
internal sealed class CoordinatorGroupUnavailableException(IReadOnlyList<(Uri Server, string Why)> attempts)
    : RpcException(new Status(StatusCode.Unavailable,
        "no coordinator of the group answered: " + string.Join("; ", attempts.Select(a => $"{a.Server}: {a.Why}"))))
{
    public IReadOnlyList<(Uri Server, string Why)> Attempts { get; } = attempts;
}
