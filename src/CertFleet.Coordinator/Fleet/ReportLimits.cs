namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// What one node's inventory report may hold. A real node holds tens of certificates of one or two KiB each (a
/// control-plane node of the layouts we support: about 40, under 100 KiB in all), so these are one to two orders of
/// magnitude above any honest node, and low enough that a full page of <c>certfleet status</c> always fits a message
/// (<see cref="Hosting.CoordinatorHost.MaxMessageBytes"/>, 16 MiB) whatever the nodes send.
/// </summary>
internal static class ReportLimits
{
    public const int MaxCertificates = 1_000;

    public const int MaxErrors = 1_000;

    /// <summary>The largest real certificates (RSA 4096 with many SANs) are under 4 KiB.</summary>
    public const int MaxCertificateBytes = 64 * 1024;

    /// <summary>The whole report as it came over the wire.</summary>
    public const int MaxReportBytes = 4 * 1024 * 1024;

    /// <summary>A path, a kubeconfig user, a unit name or a message: far above PATH_MAX (4096).</summary>
    public const int MaxTextBytes = 8 * 1024;

    /// <summary>Units using one certificate: a handful in practice.</summary>
    public const int MaxUsedBy = 64;
}
