using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>InventoryRequest (and the report sent at each connection): a fresh scan of the node.</summary>
internal sealed partial class InventoryHandler(NodeAccess node, ILogger<InventoryHandler> logger)
{
    public InventoryReport Handle()
    {
        using var inventory = node.Scan();
        var report = InventoryMapping.ToReport(inventory);
        // every report is for the coordinator, asked for or not: one line per report, here where both kinds pass
        Log.Reported(logger, report.Certificates.Count, report.Errors.Count);
        return report;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Inventory reported: {Certificates} certificate(s), {Errors} error(s)")]
        public static partial void Reported(ILogger logger, int certificates, int errors);
    }
}
