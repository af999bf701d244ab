namespace CertFleet.Coordinator.Hosting;

/// <summary>A failure nothing in the coordinator expected, told in one line for stderr; the stack trace goes to the log.</summary>
internal static class UnexpectedFailure
{
    public static string Describe(Exception e) =>
        $"stopped by an unexpected error: {string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))} "
        + $"({e.GetType().Name}; the log has its stack trace)";

    /// <summary>What ended the first of <paramref name="services"/> that failed, once the host has stopped; null when none did.</summary>
    public static Exception? Of(IEnumerable<BackgroundService> services) =>
        services.Select(s => s.ExecuteTask?.Exception?.InnerException).FirstOrDefault(e => e is not null);
}
