using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Engines;
using CertFleet.Coordinator.State.Transfer;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// `certfleet-coordinator migrate-state`: copies a stopped coordinator's SQLite state into an empty PostgreSQL
/// database and checks every row arrived. Everything that can be refused is refused before either database changes;
/// state.db is only brought to the latest schema, as starting the coordinator would, and is otherwise left as it was;
/// beside it, state.db.moved says where it went (<see cref="MovedState"/>).
/// </summary>
internal static class MigrateStateCommand
{
    private const string Name = "certfleet-coordinator migrate-state";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error,
        Func<string, string?> environment, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(time);
        var commandLine = MigrateStateCommandLine.Parse(args, environment);
        if (commandLine.HelpRequested)
        {
            await output.WriteLineAsync(CoordinatorCommandLine.Usage).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        if (commandLine.Problems.Count > 0)
        {
            foreach (var problem in commandLine.Problems)
            {
                await error.WriteLineAsync($"{Name}: {problem}").ConfigureAwait(false);
            }
            await error.WriteLineAsync("Run 'certfleet-coordinator --help' for usage.").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        if (StateDatabase.MissingLibrary() is { } missing)
        {
            return await Refuse(error, ExitCodes.InvalidInput, $"{missing}; install the package (it puts both in /usr/lib/certfleet)").ConfigureAwait(false);
        }
        var statePath = Path.Combine(commandLine.StateDirectory, "state.db");
        if (!File.Exists(statePath))
        {
            return await Refuse(error, ExitCodes.InvalidInput, $"{commandLine.StateDirectory} has no state.db: nothing to migrate; give the "
                + "state dir of the coordinator that kept its state in SQLite (state-dir: in /etc/certfleet/coordinator.conf)").ConfigureAwait(false);
        }
        PostgresLocation location;
        try
        {
            location = StateDatabases.Postgres(commandLine.To, commandLine.PasswordFile, "--to");
        }
        catch (CoordinatorOptionsException e)
        {
            return await Refuse(error, ExitCodes.InvalidInput, e.Message).ConfigureAwait(false);
        }
        try
        {
            return await MigrateAsync(statePath, commandLine.StateDirectory, location, output, error, time).ConfigureAwait(false);
        }
        catch (StateSchemaException e)
        {
            return await Refuse(error, ExitCodes.InvalidInput, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresFailure.Is(e))
        {
            return await Refuse(error, ExitCodes.Failed, PostgresFailure.Describe(location.Display, e)).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            return await Refuse(error, ExitCodes.Failed, $"{statePath}: cannot be read as a coordinator's state ({e.Message}); "
                + "nothing was copied").ConfigureAwait(false);
        }
        finally
        {
            // the pooled connections of the state database close now, so its WAL is checkpointed into state.db and gone:
            // an operator who copies state.db away as the backup copies all of it
            using var pooled = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = statePath, Pooling = true }.ToString());
            SqliteConnection.ClearPool(pooled);
        }
    }

    private static async Task<int> MigrateAsync(string statePath, string stateDirectory, PostgresLocation location,
        TextWriter output, TextWriter error, TimeProvider time)
    {
        if (MovedState.CopiedTo(stateDirectory) is { } copied)
        {
            return await Refuse(error, ExitCodes.InvalidInput, $"{statePath} was copied into {copied} already, and the group's state is "
                + $"there, newer than this state.db. To copy it again anyway (what the group changed since is not in it), delete "
                + $"{MovedState.PathIn(stateDirectory)} and run migrate-state again. Nothing was changed").ConfigureAwait(false);
        }
        if (RunningCoordinator.Of(statePath, time.GetUtcNow()) is { } running)
        {
            return await Refuse(error, ExitCodes.InvalidInput, $"a coordinator runs on {statePath} ({running.Holder} holds its lease "
                + $"until {running.Expires:u}); stop certfleet-coordinator first (systemctl stop certfleet-coordinator), then run "
                + "migrate-state again. Nothing was changed").ConfigureAwait(false);
        }
        // the target first: a database that cannot be reached or already holds state stops it before state.db is migrated
        using var target = new StateDatabase(new PostgresEngine(location));
        StateTransfer.RefuseHeld(target);
        // marked before the copy: a coordinator started on state.db from now on refuses, and the mark goes if the copy does
        MovedState.Mark(stateDirectory, location.Display, time.GetUtcNow());
        var moved = false;
        try
        {
            moved = await CopyAsync(statePath, stateDirectory, location, target, output, error, time).ConfigureAwait(false);
            return moved ? ExitCodes.Success : ExitCodes.Failed;
        }
        finally
        {
            if (!moved)
            {
                MovedState.Unmark(stateDirectory);
            }
        }
    }

    /// <summary>Copies and compares; false (having said why) when the copy must not be used.</summary>
    private static async Task<bool> CopyAsync(string statePath, string stateDirectory, PostgresLocation location, StateDatabase target,
        TextWriter output, TextWriter error, TimeProvider time)
    {
        using var source = new StateDatabase(stateDirectory);
        foreach (var step in source.Migrated)
        {
            await output.WriteLineAsync($"{statePath}: schema now at version {step.Version} ({step.Name})").ConfigureAwait(false);
        }
        var copied = StateTransfer.Copy(source, target);
        if (StateTransfer.Differences(source, target) is { Count: > 0 } differences)
        {
            foreach (var difference in differences)
            {
                await error.WriteLineAsync($"{Name}: {difference}").ConfigureAwait(false);
            }
            await Refuse(error, ExitCodes.Failed, $"the copy in {location.Display} differs from {statePath} (above); do not start a "
                + "coordinator on it: drop the database (dropdb), create it again and run migrate-state again. state.db keeps every row")
                .ConfigureAwait(false);
            return false;
        }
        // one started after the first look and before the mark was made runs on state.db now, and may have written past the copy
        if (RunningCoordinator.Of(statePath, time.GetUtcNow()) is { } started)
        {
            await Refuse(error, ExitCodes.Failed, $"a coordinator started on {statePath} during the copy ({started.Holder} holds its lease); "
                + $"do not start a coordinator on the copy in {location.Display}: stop certfleet-coordinator, drop the database "
                + "(dropdb), create it again and run migrate-state again").ConfigureAwait(false);
            return false;
        }
        await output.WriteLineAsync($"Copied {statePath} into {location.Display}; every table holds the same rows:").ConfigureAwait(false);
        foreach (var (table, rows) in copied)
        {
            await output.WriteLineAsync($"  {table,-24} {rows,8} rows").ConfigureAwait(false);
        }
        // renewed CA certificates an older release kept as files: the group's other coordinators must sign with them too
        foreach (var subject in new Signing.RenewedAuthorityStore(target).ImportFolder(stateDirectory))
        {
            await output.WriteLineAsync($"  renewed CA certificate {subject} from {Path.Combine(stateDirectory, "authorities")}").ConfigureAwait(false);
        }
        await output.WriteLineAsync($"Next: start certfleet-coordinator with --database {location.Display} (database: in "
            + "/etc/certfleet/coordinator.conf, and the password option you gave here) and the same --state-dir, which keeps the "
            + $"fleet CA; state.db stays as it was, keep it as a backup. {MovedState.PathIn(stateDirectory)} says where the state went: "
            + "a coordinator started on state.db without --database refuses while it is there").ConfigureAwait(false);
        return true;
    }

    private static async Task<int> Refuse(TextWriter error, int exitCode, string message)
    {
        await error.WriteLineAsync($"{Name}: {message}").ConfigureAwait(false);
        return exitCode;
    }
}
