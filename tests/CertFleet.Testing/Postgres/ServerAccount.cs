namespace CertFleet.Testing.Postgres;

/// <summary>
/// The account initdb and postgres run as. PostgreSQL refuses to run as root, and the tests run as root: then it is
/// Debian's `postgres` user (the package makes it), switched to with setpriv; otherwise the test's own user.
/// </summary>
internal static class ServerAccount
{
    public const string DebianUser = "postgres";

    public static bool IsSwitched => Environment.IsPrivilegedProcess;

    /// <summary>
    /// The command line that runs <paramref name="program"/> as the server account. With <paramref name="diesWithTest"/>,
    /// setpriv also sets the parent-death signal (SIGKILL), after it changes the user (a change of user clears it), so a
    /// test process that dies takes its server with it.
    /// </summary>
    public static (string FileName, List<string> Arguments) Command(string program, IEnumerable<string> arguments, bool diesWithTest)
    {
        var line = new List<string>();
        if (IsSwitched)
        {
            line.AddRange([$"--reuid={DebianUser}", $"--regid={DebianUser}", "--init-groups"]);
        }
        if (diesWithTest)
        {
            line.AddRange(["--pdeathsig", "KILL"]);
        }
        if (line.Count == 0)
        {
            return (program, arguments.ToList());
        }
        line.Add(program);
        line.AddRange(arguments);
        return ("setpriv", line);
    }

    /// <summary>Hands a folder (and what is in it) to the server account; nothing to do when it is the test's own user.</summary>
    public static void Own(string folder)
    {
        if (IsSwitched)
        {
            ProcessRunner.RunChecked("chown", "-R", $"{DebianUser}:{DebianUser}", folder);
        }
    }
}
