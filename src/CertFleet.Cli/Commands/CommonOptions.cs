using System.CommandLine;
using CertFleet.Pki.Files;

namespace CertFleet.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static Option<string> Root() => new("--root")
    {
        Description = "Read the node's files under this folder instead of / (several nodes can live on one machine)",
        DefaultValueFactory = _ => "/",
        HelpName = "DIR",
    };

    public static Option<string> Output() => new Option<string>("--output", "-o")
    {
        Description = "Output format",
        DefaultValueFactory = _ => "table",
    }.AcceptOnlyFromAmong("table", "json");

    public static Option<bool> Local() => new("--local")
    {
        Description = "Work on this machine's files directly, without a coordinator",
    };

    public static NodeRoot OpenRoot(string directory) => new(directory);
}
