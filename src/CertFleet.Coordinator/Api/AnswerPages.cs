using System.Globalization;
using CertFleet.Coordinator.Hosting;
using Grpc.Core;

namespace CertFleet.Coordinator.Api;

/// <summary>
/// How admin answers that grow with the fleet (status, plan, rollouts, audit) are cut into pages, so that no fleet
/// size and no node's report can make one answer exceed the message limit. A page stops at its item count or once it
/// holds <see cref="MaxPageBytes"/>, whichever comes first, and always holds at least one item; every item is itself
/// bounded (a node by ReportLimits, an audit record by AuditLog.MaxFieldBytes), so a page stays under the limit.
/// </summary>
internal static class AnswerPages
{
    /// <summary>Half of <see cref="CoordinatorHost.MaxMessageBytes"/>: the other half is room for the one item that crosses it.</summary>
    public const int MaxPageBytes = CoordinatorHost.MaxMessageBytes / 2;

    /// <summary>The page size asked for, or <paramref name="byDefault"/> for 0, at most <paramref name="max"/>.</summary>
    public static int Size(int asked, int byDefault, int max)
    {
        if (asked < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"page_size {asked} is negative; give 0 for the default ({byDefault}) or up to {max}"));
        }
        return asked == 0 ? byDefault : Math.Min(asked, max);
    }

    /// <summary>A token holding a position (an audit sequence, an offset): decimal, as nothing here needs it hidden.</summary>
    public static string Token(long position) => position.ToString(CultureInfo.InvariantCulture);

    /// <summary>The position in <paramref name="token"/>; 0 for none. A token this coordinator did not give is refused.</summary>
    public static long Position(string token)
    {
        if (token.Length == 0)
        {
            return 0;
        }
        if (token.Length > 20 || !long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            throw BadToken(token);
        }
        return position;
    }

    public static RpcException BadToken(string token) => new(new Status(StatusCode.InvalidArgument,
        $"page_token '{(token.Length > 40 ? token[..40] + "..." : token)}' is not one this coordinator gave (or it expired); ask again without it"));
}
