using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.State;

/// <summary>
/// One step of the state database's schema history: after it, the database is at <paramref name="Version"/>.
/// <paramref name="Sqlite"/> does the step on SQLite, inside the transaction <see cref="StateSchema"/> opened for it;
/// a second engine adds its own form of the same step beside it, under the same version and name, so that both
/// engines share one history.
/// </summary>
/// <param name="Name">What the step does, in a few words: the coordinator logs it when it applies the step.</param>
internal sealed record SchemaMigration(int Version, string Name, Action<SqliteConnection> Sqlite)
{
    /// <summary>A step that is SQL text only, which is what most steps are.</summary>
    public static SchemaMigration Sql(int version, string name, string sqlite) =>
        new(version, name, connection => connection.Execute(sqlite));
}
