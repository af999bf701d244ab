namespace CertFleet.Agent.Steps;

/// <summary>How far an install got, as recorded before each stage begins to change anything.</summary>
internal enum InstallPhase
{
    /// <summary>Journaled; the backup is being taken; no file on the node has changed.</summary>
    Started,

    /// <summary>Every file to change is backed up; temporaries may be being written; no file has changed.</summary>
    BackedUp,

    /// <summary>Every temporary is complete; files are being renamed into place (some old, some new).</summary>
    Renaming,

    /// <summary>Every file is new and the node passed local verification; only the commit is missing.</summary>
    Verified,
}
