namespace CertFleet.Pki.Verification;

/// <summary>One thing wrong on a node: the file (or unit) it concerns and what is wrong, in the operator's words.</summary>
public sealed record VerificationProblem(string Path, string? KubeconfigUser, string? Unit, string Problem);

/// <summary>The outcome of verifying a node: how many certificates were checked and every problem found.</summary>
public sealed record VerificationReport(int CertificatesChecked, int UnitsChecked, IReadOnlyList<VerificationProblem> Problems)
{
    public bool Passed => Problems.Count == 0;
}
