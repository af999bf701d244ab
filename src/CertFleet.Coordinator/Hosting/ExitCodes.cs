using System.Collections.Frozen;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// certfleet-coordinator's exit codes. Its unit (packaging/systemd/certfleet-coordinator.service) restarts it after
/// any failure but those in <see cref="RestartCannotFix"/>, which its RestartPreventExitStatus= lists; a test holds
/// the two together.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Stopped as asked (SIGTERM, `systemctl stop`), or --help.</summary>
    public const int Success = 0;

    /// <summary>It could not run (the address is in use, the state dir broke while running, an unexpected error). systemd restarts it.</summary>
    public const int Failed = 1;

    /// <summary>Bad command line or unusable files; nothing started.</summary>
    public const int InvalidInput = 2;

    /// <summary>What a restart cannot fix: the operator must change the settings or the files first.</summary>
    public static readonly FrozenSet<int> RestartCannotFix = FrozenSet.ToFrozenSet([InvalidInput]);
}
