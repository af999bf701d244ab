using System.ComponentModel;
using System.Globalization;

namespace CertFleet.Testing.Postgres;

/// <summary>
/// The PostgreSQL server programs (initdb, postgres, pg_isready, psql) of one installed version: Debian's newest
/// /usr/lib/postgresql/VERSION/bin, else what `pg_config --bindir` names. Debian's /usr/bin/psql is a wrapper that
/// looks for the machine's clusters, so the tests call the version's own programs.
/// </summary>
public static class PostgresBinaries
{
    private static readonly Lazy<string?> Found = new(Find);

    public static bool IsInstalled => Found.Value is not null;

    public static string Directory => Found.Value ?? throw new InvalidOperationException(
        "PostgreSQL's server programs are not installed (no /usr/lib/postgresql/*/bin/postgres, nor a pg_config naming them): "
        + "run ./test.sh (it installs Debian's postgresql) or apt-get install postgresql");

    public static string Psql => Program("psql");

    public static string Program(string name) => Path.Combine(Directory, name);

    private static string? Find() => Debian() ?? PgConfig();

    private static string? Debian()
    {
        const string root = "/usr/lib/postgresql";
        if (!System.IO.Directory.Exists(root))
        {
            return null;
        }
        // versions are "15" or "9.6": compared as numbers, not as text
        return System.IO.Directory.GetDirectories(root)
            .Select(folder => (folder, version: double.TryParse(Path.GetFileName(folder), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : -1))
            .Where(candidate => candidate.version >= 0 && HasServer(Path.Combine(candidate.folder, "bin")))
            .OrderByDescending(candidate => candidate.version)
            .Select(candidate => Path.Combine(candidate.folder, "bin"))
            .FirstOrDefault();
    }

    private static string? PgConfig()
    {
        try
        {
            var result = ProcessRunner.Run("pg_config", ["--bindir"], timeout: TimeSpan.FromSeconds(10));
            var folder = result.StandardOutput.Trim();
            return result.ExitCode == 0 && HasServer(folder) ? folder : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
    }

    private static bool HasServer(string folder) =>
        new[] { "initdb", "postgres", "pg_isready", "psql" }.All(program => File.Exists(Path.Combine(folder, program)));
}
