using System.CommandLine;

namespace CertFleet.Cli.Fleet;

/// <summary>An option whose value is a validity in whole days above zero (--days, --ca-days).</summary>
internal static class DaysOption
{
    public static Option<int> Create(string name, string description, TimeSpan defaultValidity)
    {
        var option = new Option<int>(name)
        {
            Description = description,
            DefaultValueFactory = _ => (int)defaultValidity.TotalDays,
            HelpName = "N",
        };
        option.Validators.Add(result =>
        {
            // a value that is not a number at all is reported by the parser itself
            if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, out var days) && days <= 0)
            {
                result.AddError($"{name} must be a whole number of days greater than 0");
            }
        });
        return option;
    }
}
