namespace CertFleet.Cli.Commands;

/// <summary>Where a command works, or where an option means something: this machine's files, the fleet through the coordinator, or both.</summary>
[Flags]
internal enum CommandModes
{
    /// <summary>This machine's files (under --root), no coordinator.</summary>
    Local = 1,

    /// <summary>The fleet, through the coordinator named in admin.conf.</summary>
    Fleet = 2,

    Both = Local | Fleet,
}
