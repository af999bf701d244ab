using System.Reflection;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Api;

/// <summary>Every AdminService method, present and future, refuses anything but the admin credential; on 127.0.46.2.</summary>
public sealed class AdminCredentialTests : IAsyncLifetime
{
    private TestCoordinator _coordinator = null!;
    private System.Security.Cryptography.X509Certificates.X509Certificate2 _agentIdentity = null!;

    public static TheoryData<string> AdminMethods() => [.. AdminService.Descriptor.Methods.Select(m => m.Name)];

    public async Task InitializeAsync()
    {
        _coordinator = await TestCoordinator.StartAsync("127.0.46.2:7443");
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: DateTime.UtcNow.AddSeconds(20));
        _agentIdentity = await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-1");
    }

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Theory]
    [MemberData(nameof(AdminMethods))]
    public async Task AdminMethod_AgentIdentityOrNoCertificate_PermissionDenied(string method)
    {
        foreach (var client in new[] { _coordinator.AdminWith(_agentIdentity), _coordinator.AdminWith(null) })
        {
            var status = await CallAsync(client, method);

            // Unimplemented only where no handler exists yet (it then does nothing); an implemented method must check
            Assert.True(status is StatusCode.PermissionDenied or StatusCode.Unimplemented, $"{method} answered {status} to a non-admin caller");
        }
    }

    /// <summary>Calls the method with an empty request, reading one answer of a stream; returns the status.</summary>
    private static async Task<StatusCode> CallAsync(AdminService.AdminServiceClient client, string name)
    {
        var descriptor = AdminService.Descriptor.FindMethodByName(name);
        var request = (IMessage)Activator.CreateInstance(descriptor.InputType.ClrType)!;
        var deadline = (DateTime?)DateTime.UtcNow.AddSeconds(10);
        try
        {
            if (descriptor.IsServerStreaming)
            {
                var call = client.GetType().GetMethod(name, [request.GetType(), typeof(Metadata), typeof(DateTime?), typeof(CancellationToken)])!
                    .Invoke(client, [request, null, deadline, CancellationToken.None])!;
                var stream = call.GetType().GetProperty("ResponseStream")!.GetValue(call)!;
                var moveNext = (Task<bool>)stream.GetType().GetMethod("MoveNext", [typeof(CancellationToken)])!.Invoke(stream, [CancellationToken.None])!;
                await moveNext;
            }
            else
            {
                var call = client.GetType().GetMethod(name + "Async", [request.GetType(), typeof(Metadata), typeof(DateTime?), typeof(CancellationToken)])!
                    .Invoke(client, [request, null, deadline, CancellationToken.None])!;
                await (Task)call.GetType().GetProperty("ResponseAsync")!.GetValue(call)!;
            }
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
        catch (TargetInvocationException e) when (e.InnerException is RpcException rpc)
        {
            return rpc.StatusCode;
        }
    }
}
