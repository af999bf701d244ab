namespace CertFleet.Cli;

/// <summary>Exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran, and what it checked or did is not all well (problems found, something not renewed).</summary>
    public const int ProblemsFound = 1;

    /// <summary>Bad arguments (an option in a mode where it means nothing too) or unreadable input; nothing was changed.</summary>
    public const int InvalidInput = 2;

    /// <summary>The coordinator could not be reached or refused the credential.</summary>
    public const int Unavailable = 3;

    /// <summary>The command stopped on an error it does not expect (a bug, or the machine: a disk, a permission); the message says what.</summary>
    public const int Failed = 4;
}
