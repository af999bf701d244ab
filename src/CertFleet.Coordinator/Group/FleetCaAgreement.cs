using CertFleet.Coordinator.State;

namespace CertFleet.Coordinator.Group;

/// <summary>
/// Every coordinator of a group must hold the same fleet CA: agents trust it, and their identities (signed by it) are
/// what every coordinator checks. The first coordinator on a database records its fleet CA's hash; one started later
/// with another fleet CA (say, made afresh in an empty state dir) is refused before it does anything, with what to copy.
/// </summary>
internal static class FleetCaAgreement
{
    private const string Setting = "fleet-ca";

    /// <summary>Records <paramref name="caHash"/> for the group, or throws <see cref="StateSchemaException"/> when the group's differs.</summary>
    public static void Check(StateDatabase database, string caHash, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(database);
        using var connection = database.Open();
        using var transaction = database.Engine.BeginWrite(connection);
        database.Engine.TakeTurns(connection);
        var recorded = connection.Scalar("SELECT value FROM coordinator_group WHERE name = @name", ("@name", Setting)) as string;
        if (recorded is null)
        {
            connection.Execute("INSERT INTO coordinator_group (name, value) VALUES (@name, @value)", ("@name", Setting), ("@value", caHash));
            transaction.Commit();
            return;
        }
        if (recorded != caHash)
        {
            throw new StateSchemaException($"{database.Path} belongs to a coordinator group whose fleet CA is {recorded}, and this "
                + $"coordinator's ({Path.Combine(stateDirectory, "fleet-ca.crt")}) is {caHash}: agents enrolled with the group would not "
                + "trust it. Stop it, copy fleet-ca.crt and fleet-ca.key from a coordinator of the group into its state dir "
                + "(remove its own server.* and admin.* files made with the other CA), and start it again. Nothing was changed.");
        }
    }
}
