using System.Net.Sockets;
using Npgsql;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// A PostgreSQL database that could not be used, told in one line for stderr: which database (its URL, which never
/// holds the password) and what to check. The server's own words are kept; Npgsql's stack trace is not for operators.
/// </summary>
internal static class PostgresFailure
{
    public static bool Is(Exception e) => e is NpgsqlException || e.InnerException is NpgsqlException;

    public static string Describe(string database, Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var failure = e as NpgsqlException ?? e.InnerException as NpgsqlException ?? e;
        return failure switch
        {
            // 28P01 invalid_password, 28000 invalid_authorization_specification (pg_hba.conf refused the login)
            PostgresException { SqlState: "28P01" or "28000" } refused =>
                $"{database}: the server refused the login ({refused.MessageText}); check the user in the URL, the password in "
                + $"{DatabasePassword.FileOption} or {DatabasePassword.CredentialOption}, and the server's pg_hba.conf",
            PostgresException { SqlState: "3D000" } =>
                $"{database}: the database does not exist; create it empty (createdb -O USER DB) and run again",
            PostgresException server =>
                $"{database}: the server refused it: {server.MessageText} ({server.SqlState})",
            _ when Chain(failure).Any(inner => inner is SocketException or TimeoutException) =>
                $"{database}: cannot reach the server ({OneLine(Chain(failure).Last())}); check that PostgreSQL runs and listens "
                + "on that host and port (listen_addresses, the firewall), and the host name",
            _ => $"{database}: {OneLine(failure)}; check that PostgreSQL runs and accepts this user from this machine",
        };
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    private static string OneLine(Exception e) =>
        string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
