namespace CertFleet.Coordinator.Hosting;

/// <summary>certfleet-coordinator's exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>It could not run (the address is in use, the state dir broke while running).</summary>
    public const int Failed = 1;

    /// <summary>Bad command line or unusable files; nothing started.</summary>
    public const int InvalidInput = 2;
}
