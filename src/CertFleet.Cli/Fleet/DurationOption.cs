using System.CommandLine;
using CertFleet.Pki.Text;

namespace CertFleet.Cli.Fleet;

/// <summary>An option whose value is a duration in the one grammar of the three programs (README "Durations and hashes").</summary>
internal static class DurationOption
{
    public static Option<TimeSpan?> Create(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (DurationText.TryParse(text, out var duration, out var problem))
            {
                return duration;
            }
            result.AddError(DurationText.Error(name, text, problem));
            return null;
        },
    };
}
