using CertFleet.Pki.Authorities;

namespace CertFleet.Coordinator.Hosting;

/// <summary>Checks options before anything starts and lists every problem at once, each naming what to fix.</summary>
internal static class CoordinatorOptionsCheck
{
    public const string WindowWithoutThreshold =
        "--window only applies to automatic renewal; add --auto-renew-within D (e.g. 30d) or drop --window";

    public static IReadOnlyList<string> Problems(CoordinatorOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Listen))
        {
            problems.Add("--listen is missing; give the address agents and the CLI connect to, e.g. --listen 0.0.0.0:7443");
        }
        else if (ListenAddress.TryParse(options.Listen, "--listen", out var error) is null)
        {
            problems.Add(error!);
        }
        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            problems.Add("--state-dir is missing; give a folder for the coordinator's database and keys, e.g. --state-dir /var/lib/certfleet");
        }
        else if (File.Exists(options.StateDirectory))
        {
            problems.Add($"--state-dir {options.StateDirectory} is a file; give a folder (it is created when missing)");
        }
        if (options.MetricsListen is not null && ListenAddress.TryParse(options.MetricsListen, "--metrics-listen", out var metricsError) is null)
        {
            problems.Add(metricsError!);
        }
        if (options.AutoRenewWithin is { } within && within <= TimeSpan.Zero)
        {
            problems.Add("--auto-renew-within must be a positive duration such as 30d");
        }
        if (options.Window is not null && options.AutoRenewWithin is null)
        {
            problems.Add(WindowWithoutThreshold);
        }
        if (options.StepTimeout <= TimeSpan.Zero)
        {
            problems.Add("the step timeout must be positive");
        }
        foreach (var pair in options.ClusterAuthorities)
        {
            problems.AddRange(ClusterAuthorityReader.Problems(pair));
        }
        return problems;
    }
}
