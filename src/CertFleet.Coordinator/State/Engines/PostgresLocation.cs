using Npgsql;

namespace CertFleet.Coordinator.State.Engines;

/// <summary>
/// A PostgreSQL database given as <c>postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=...]</c> (libpq's URL form, which
/// operators know from psql), with the password apart: from a systemd credential or a 0600 file, never in the URL,
/// where it would show in `ps`, in coordinator.conf and in every log line that names the database.
/// </summary>
internal sealed record PostgresLocation(string Display, string ConnectionString)
{
    private static readonly Dictionary<string, SslMode> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = SslMode.Disable, ["allow"] = SslMode.Allow, ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require, ["verify-ca"] = SslMode.VerifyCA, ["verify-full"] = SslMode.VerifyFull,
    };

    private static bool IsUrl(string value) =>
        value.StartsWith("postgresql://", StringComparison.Ordinal) || value.StartsWith("postgres://", StringComparison.Ordinal);

    /// <summary>The location, or the problem with <paramref name="url"/> (which names the option and what to write).</summary>
    public static PostgresLocation? TryParse(string url, string? password, string option, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(url);
        const string Form = "postgresql://USER@HOST:PORT/DATABASE";
        problem = null;
        if (!IsUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            problem = $"{option} {Printable(url)}: not a PostgreSQL URL; write {Form} (or leave it out to keep the state in SQLite)";
            return null;
        }
        var userInfo = Uri.UnescapeDataString(uri.UserInfo);
        if (userInfo.Contains(':', StringComparison.Ordinal))
        {
            problem = $"{option}: the URL holds a password, which would show in `ps` and the logs; remove it and give it with "
                + "--database-password-credential NAME (systemd LoadCredential=) or --database-password-file F (mode 0600)";
            return null;
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (userInfo.Length == 0 || database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            problem = $"{option} {Printable(url)}: name the user and the database: {Form}";
            return null;
        }
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Username = userInfo,
            Database = database,
            Password = password,
            // a coordinator that cannot reach its database says so in seconds, and a statement never hangs a step forever
            Timeout = 10,
            CommandTimeout = 60,
            ApplicationName = "certfleet-coordinator",
            // the lease's renewals and every agent's report each want a connection: 2,000 agents need more than 100
            MaxPoolSize = 200,
        };
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, Uri.UnescapeDataString(v)) : (pair, "");
            if (key == "sslmode" && SslModes.TryGetValue(value, out var mode))
            {
                builder.SslMode = mode;
            }
            else
            {
                problem = $"{option}: unknown URL parameter '{Printable(pair)}'; only sslmode=disable|prefer|require|verify-ca|verify-full is read";
                return null;
            }
        }
        var display = $"postgresql://{userInfo}@{uri.Authority}/{database}";
        return new PostgresLocation(display, builder.ConnectionString);
    }

    private static string Printable(string text) => string.Concat(text.Take(200).Select(c => char.IsControl(c) ? '?' : c));
}
