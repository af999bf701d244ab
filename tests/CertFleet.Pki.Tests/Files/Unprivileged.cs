using System.Runtime.InteropServices;

namespace CertFleet.Pki.Tests.Files;

/// <summary>
/// Runs an action with this thread's file-system uid set to "nobody", so permission checks apply even though
/// the tests run as root (setfsuid is per thread and drops CAP_DAC_OVERRIDE only there).
/// </summary>
internal static class Unprivileged
{
    private const uint Nobody = 65534;

    public static T Run<T>(Func<T> action)
    {
        var previous = SetFsUid(Nobody);
        try
        {
            return action();
        }
        finally
        {
            SetFsUid((uint)previous);
        }
    }

    public static void Run(Action action) => Run(() =>
    {
        action();
        return 0;
    });

    [DllImport("libc", EntryPoint = "setfsuid")]
    private static extern int SetFsUid(uint uid);
}
