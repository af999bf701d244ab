using CertFleet.Pki.Inventory;
using CertFleet.Pki.Verification;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// Local verification after a change, threshold 0 (key match, chain, not expired), counting only problems the
/// change brought: an expired certificate the step did not touch must not undo the renewal of the others.
/// </summary>
internal static class NewProblems
{
    public static IReadOnlyList<VerificationProblem> Since(IReadOnlyList<VerificationProblem> before, NodeInventory after, TimeProvider time)
    {
        var known = before.ToHashSet();
        return new LocalVerifier(time).Verify(after, TimeSpan.Zero).Problems.Where(p => !known.Contains(p)).ToList();
    }

    public static IReadOnlyList<VerificationProblem> Of(NodeInventory inventory, TimeProvider time) =>
        new LocalVerifier(time).Verify(inventory, TimeSpan.Zero).Problems;

    public static string Describe(IEnumerable<VerificationProblem> problems) =>
        string.Join("; ", problems.Select(p => $"{p.Path}{(p.KubeconfigUser is null ? "" : $" (user {p.KubeconfigUser})")}: {p.Problem}"));
}
