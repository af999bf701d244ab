namespace CertFleet.Coordinator.Hosting;

/// <summary>The coordinator cannot start with these options; <see cref="Problems"/> lists every reason.</summary>
public sealed class CoordinatorOptionsException(IReadOnlyList<string> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
