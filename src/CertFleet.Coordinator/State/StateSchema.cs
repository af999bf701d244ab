using System.Globalization;
using CertFleet.Coordinator.State.Migrations;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The state database's schema history, in one place: the steps in order, the version each leaves the database at
/// (kept in <c>PRAGMA user_version</c>), and how a database is brought to the latest. Every table of every store is
/// made and changed here, never by a store. A change to the schema is a new step at the end of <see cref="Migrations"/>;
/// a released step is never edited, since databases out there already went through it.
/// </summary>
internal static class StateSchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        UnversionedTables.Migration,
        TimesAsText.Migration,
    ];

    public static int Latest => Migrations[^1].Version;

    public static int Version(SqliteConnection connection) =>
        Convert.ToInt32(connection.Scalar("PRAGMA user_version"), CultureInfo.InvariantCulture);

    /// <summary>
    /// Refuses, before anything is written, a database a newer program made (<see cref="StateSchemaException"/>): this
    /// one would misread what it does not know, and a step back is not possible.
    /// </summary>
    public static void RefuseNewer(SqliteConnection connection, string path)
    {
        var version = Version(connection);
        if (version > Latest)
        {
            throw new StateSchemaException($"{path} is at schema version {version}, which a newer certfleet-coordinator "
                + $"wrote; this one knows versions up to {Latest} and changed nothing in it. Upgrade certfleet-coordinator "
                + "(install the release that wrote it, or a newer one), or give it a state dir of its own.");
        }
    }

    /// <summary>
    /// Applies the steps after the database's version, each in a transaction of its own that also sets the version,
    /// so a crash leaves the database at a step's start or at its end. Returns the steps applied (none when the
    /// database was at the latest version: then nothing is written).
    /// </summary>
    public static IReadOnlyList<SchemaMigration> Migrate(SqliteConnection connection, string path)
    {
        RefuseNewer(connection, path);
        if (Version(connection) == Latest)
        {
            return [];
        }
        var applied = new List<SchemaMigration>();
        // a step may rebuild a table that others refer to, which SQLite allows only with the checks off (and only
        // outside a transaction); each step is checked for dangling references before it commits instead
        connection.Execute("PRAGMA foreign_keys=OFF");
        try
        {
            foreach (var migration in Migrations)
            {
                // IMMEDIATE: a second coordinator opening the same state dir waits here, then finds the step done
                using var transaction = connection.BeginTransaction(deferred: false);
                RefuseNewer(connection, path);
                if (Version(connection) >= migration.Version)
                {
                    continue;
                }
                migration.Sqlite(connection);
                if (connection.Read("PRAGMA foreign_key_check", row => row.GetString(0)) is { Count: > 0 } broken)
                {
                    throw new InvalidOperationException($"schema step {migration.Version} ({migration.Name}) left rows of {string.Join(", ", broken.Distinct())} referring to nothing");
                }
                connection.Execute($"PRAGMA user_version = {migration.Version.ToString(CultureInfo.InvariantCulture)}");
                transaction.Commit();
                applied.Add(migration);
            }
        }
        finally
        {
            connection.Execute("PRAGMA foreign_keys=ON");
        }
        return applied;
    }
}
