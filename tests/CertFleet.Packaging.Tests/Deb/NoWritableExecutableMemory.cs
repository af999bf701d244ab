using CertFleet.Testing;

namespace CertFleet.Packaging.Tests.Deb;

/// <summary>
/// Runs a program as systemd's MemoryDenyWriteExecute=yes would: a small C wrapper sets the kernel's own rule,
/// prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) (Linux 6.3; systemd uses it where the kernel has it, seccomp
/// otherwise), which the program then inherits across exec: no memory both writable and executable, no mapping made
/// executable later. A JIT cannot run under it; the units set it because the packaged programs are native.
/// </summary>
public sealed class NoWritableExecutableMemory : IDisposable
{
    private const string Source = """
        #include <stdio.h>
        #include <sys/prctl.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc < 2) { fprintf(stderr, "usage: mdwe PROGRAM [ARGS]\n"); return 2; }
            if (prctl(65 /* PR_SET_MDWE */, 1 /* PR_MDWE_REFUSE_EXEC_GAIN */, 0L, 0L, 0L) != 0) {
                perror("prctl(PR_SET_MDWE): this kernel has no MDWE (Linux 6.3 or later)");
                return 125;
            }
            execvp(argv[1], argv + 1);
            perror(argv[1]);
            return 126;
        }
        """;

    private readonly string _folder = ScratchDirectory.Create("mdwe");
    private readonly Lazy<string> _wrapper;

    // built on first use, so a class whose tests are all skipped costs nothing
    public NoWritableExecutableMemory() => _wrapper = new Lazy<string>(Build);

    /// <summary>The wrapper: run `Wrapper PROGRAM ARGS...`.</summary>
    public string Wrapper => _wrapper.Value;

    public void Dispose() => ScratchDirectory.Delete(_folder);

    private string Build()
    {
        var source = Path.Combine(_folder, "mdwe.c");
        var wrapper = Path.Combine(_folder, "mdwe");
        File.WriteAllText(source, Source);
        // the C toolchain the native programs are linked with (test.sh installs gcc)
        ProcessRunner.RunChecked("cc", "-O2", "-o", wrapper, source);
        return wrapper;
    }
}
