namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// The coordinator's command lines, `certfleet-coordinator` and its `migrate-state` verb: every option takes one value,
/// as `--name value` or `--name=value`. One reading for both, so they refuse the same mistakes with the same words;
/// every problem is listed at once.
/// </summary>
internal static class OptionArguments
{
    /// <param name="known">whether the command takes this option (its name with the dashes)</param>
    /// <param name="unknown">the problem for an argument the command does not take, given the argument as typed</param>
    /// <returns>the options in the order given, or null when help was asked for</returns>
    public static List<(string Name, string Value)>? Read(IReadOnlyList<string> args, Func<string, bool> known, Func<string, string> unknown, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new List<(string Name, string Value)>();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, value) = Split(args[i]);
            if (name is "--help" or "-h")
            {
                return null;
            }
            if (!known(name))
            {
                problems.Add(unknown(args[i]));
                continue;
            }
            if (value is null)
            {
                // an option right after it is a forgotten value, not the value
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    problems.Add($"{name} needs a value");
                    continue;
                }
                value = args[++i];
            }
            options.Add((name, value));
        }
        return options;
    }

    private static (string Name, string? Value) Split(string argument)
    {
        var equals = argument.IndexOf('=', StringComparison.Ordinal);
        return argument.StartsWith("--", StringComparison.Ordinal) && equals > 0
            ? (argument[..equals], argument[(equals + 1)..])
            : (argument, null);
    }
}
