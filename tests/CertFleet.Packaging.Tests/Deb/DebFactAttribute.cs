namespace CertFleet.Packaging.Tests.Deb;

/// <summary>
/// The .deb tests publish all three programs (the agent NativeAOT) before they start: minutes on a small machine.
/// CERTFLEET_SKIP_DEB_TEST=1 skips them (the unit tests still run).
/// </summary>
internal sealed class DebFactAttribute : FactAttribute
{
    public const string SkipVariable = "CERTFLEET_SKIP_DEB_TEST";

    public DebFactAttribute()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(SkipVariable)))
        {
            Skip = $"{SkipVariable} is set";
        }
    }
}
