using System.Collections.Frozen;

namespace CertFleet.Agent;

/// <summary>
/// certfleet-agent's exit codes. Its unit (packaging/systemd/certfleet-agent.service) restarts it after any failure
/// but those in <see cref="RestartCannotFix"/>, which its RestartPreventExitStatus= lists; a test holds the two together.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Stopped as asked (SIGTERM, `systemctl stop`), or --help.</summary>
    public const int Success = 0;

    /// <summary>A failure while it ran: the node's files became unreadable (the --root folder went away), an unexpected error. systemd restarts it.</summary>
    public const int Failed = 1;

    /// <summary>Bad settings on the command line or in agent.conf; nothing started.</summary>
    public const int InvalidInput = 2;

    /// <summary>The coordinator refused the enrollment (token used, expired, for another node; not the pinned CA), or the identity expired: a new token is needed.</summary>
    public const int EnrollmentRefused = 3;

    /// <summary>What a restart cannot fix: the operator must change the settings or enroll again.</summary>
    public static readonly FrozenSet<int> RestartCannotFix = FrozenSet.ToFrozenSet([InvalidInput, EnrollmentRefused]);
}
