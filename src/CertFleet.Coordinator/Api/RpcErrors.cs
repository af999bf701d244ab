using System.Diagnostics.CodeAnalysis;
using Grpc.Core;

namespace CertFleet.Coordinator.Api;

/// <summary>Failures as gRPC statuses; the detail is the operator-facing message.</summary>
internal static class RpcErrors
{
    [DoesNotReturn]
    public static void PermissionDenied(string detail) => throw new RpcException(new Status(StatusCode.PermissionDenied, detail));

    /// <summary>Runs an admin-API domain call and maps its documented exceptions to statuses.</summary>
    public static async Task<T> Map<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (Status(e) is { } status)
        {
            throw new RpcException(status);
        }
    }

    public static Status? Status(Exception e) => e switch
    {
        KeyNotFoundException => new Status(StatusCode.NotFound, e.Message),
        InvalidOperationException => new Status(StatusCode.FailedPrecondition, e.Message),
        ArgumentException => new Status(StatusCode.InvalidArgument, e.Message),
        _ => null,
    };
}
