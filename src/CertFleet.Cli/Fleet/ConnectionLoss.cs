using Grpc.Core;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// Whether a failed call lost its coordinator (unreachable, connection broken, keepalive unanswered, no TLS answer
/// within the connect timeout) rather than being answered with an error. Grpc.Net.Client reports a broken stream as
/// Internal and a connect timeout as Cancelled, each with the transport's exception attached; a coordinator's own
/// error carries none on this side. Callers check first that their own cancellation (Ctrl-C) is not the cause.
/// </summary>
internal static class ConnectionLoss
{
    public static bool Is(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.StatusCode switch
        {
            StatusCode.Unavailable => true,
            StatusCode.Internal => e.Status.DebugException is IOException or HttpRequestException,
            StatusCode.Cancelled => e.Status.DebugException is OperationCanceledException,
            _ => false,
        };
    }

    /// <summary>What went wrong, for a message: the transport's words, or (a connect timeout says nothing) what happened.</summary>
    public static string Why(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.StatusCode == StatusCode.Cancelled && e.Status.Detail.Length == 0
            ? $"no answer within {CoordinatorEndpoint.ConnectTimeout.TotalSeconds:0} s: stopped, paused or cut off"
            : e.Status.Detail;
    }
}
