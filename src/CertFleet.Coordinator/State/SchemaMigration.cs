using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State;

/// <summary>
/// One step of the state database's schema history, the same history for both engines: after it, the database is
/// at <paramref name="Version"/>. <paramref name="Sqlite"/> does the step on SQLite and <paramref name="Postgres"/>
/// (SQL text) on PostgreSQL, each inside the transaction <see cref="StateSchema"/> opened for it.
/// </summary>
/// <param name="Name">What the step does, in a few words: the coordinator logs it when it applies the step.</param>
internal sealed record SchemaMigration(int Version, string Name, Action<SqliteConnection> Sqlite, string Postgres)
{
    /// <summary>A step that is SQL text only, which is what most steps are.</summary>
    public static SchemaMigration Sql(int version, string name, string sqlite, string postgres) =>
        new(version, name, connection => connection.Execute(sqlite), postgres);
}
