using System.Data.Common;
using CertFleet.Coordinator.State.Engines;
using CertFleet.Coordinator.State.Migrations;

namespace CertFleet.Coordinator.State;

/// <summary>
/// The state database's schema history, in one place and one for both engines: the steps in order, the version each
/// leaves the database at (SQLite keeps it in <c>PRAGMA user_version</c>, PostgreSQL in a one-row table), and how a
/// database is brought to the latest. Every table of every store is made and changed here, never by a store. A
/// change to the schema is a new step at the end of <see cref="Migrations"/>, in both engines' SQL; a released step
/// is never edited, since databases out there already went through it.
/// </summary>
internal static class StateSchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        UnversionedTables.Migration,
        TimesAsText.Migration,
        CoordinatorGroup.Migration,
    ];

    public static int Latest => Migrations[^1].Version;

    /// <summary>
    /// Refuses, before anything is written, a database a newer program made (<see cref="StateSchemaException"/>): this
    /// one would misread what it does not know, and a step back is not possible.
    /// </summary>
    public static void RefuseNewer(StateEngine engine, DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var version = engine.SchemaVersion(connection);
        if (version > Latest)
        {
            throw new StateSchemaException($"{engine.Location} is at schema version {version}, which a newer certfleet-coordinator "
                + $"wrote; this one knows versions up to {Latest} and changed nothing in it. Upgrade certfleet-coordinator "
                + "(install the release that wrote it, or a newer one), or give it a database of its own.");
        }
    }

    /// <summary>
    /// Applies the steps after the database's version, each in a transaction of its own that also sets the version,
    /// so a crash leaves the database at a step's start or at its end. Returns the steps applied (none when the
    /// database was at the latest version: then nothing is written).
    /// </summary>
    public static IReadOnlyList<SchemaMigration> Migrate(StateEngine engine, DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(engine);
        RefuseNewer(engine, connection);
        if (engine.SchemaVersion(connection) == Latest)
        {
            return [];
        }
        var applied = new List<SchemaMigration>();
        engine.BeforeMigration(connection);
        try
        {
            foreach (var migration in Migrations)
            {
                // a second coordinator migrating the same database waits here, then finds the step done
                using var transaction = engine.BeginMigration(connection);
                RefuseNewer(engine, connection);
                if (engine.SchemaVersion(connection) >= migration.Version)
                {
                    continue;
                }
                engine.ApplyStep(connection, migration);
                if (engine.DanglingReferences(connection) is { Count: > 0 } broken)
                {
                    throw new InvalidOperationException($"schema step {migration.Version} ({migration.Name}) left rows of {string.Join(", ", broken)} referring to nothing");
                }
                engine.SetSchemaVersion(connection, migration.Version);
                transaction.Commit();
                applied.Add(migration);
            }
        }
        finally
        {
            engine.AfterMigration(connection);
        }
        return applied;
    }
}
