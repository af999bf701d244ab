using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Connection;
using CertFleet.Agent.Options;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// Loads the agent identity from the state folder, or enrolls once with the bootstrap token: a new P-256 key made
/// here, a CSR with CN = node name, sent over TLS pinned to the CA hash. An unreachable coordinator is retried with
/// backoff; a refusal is final.
/// </summary>
internal sealed partial class Enroller(AgentOptions options, TimeProvider time, ILogger<Enroller> logger)
{
    private readonly IdentityStore _store = new(options.StateDirectory);

    public async Task<AgentIdentity> EnsureIdentityAsync(CancellationToken cancellationToken)
    {
        if (_store.Exists)
        {
            return _store.Load();
        }
        if (options.Token is null || options.CaHash is null)
        {
            throw new EnrollmentRejectedException(
                $"{options.StateDirectory} holds no agent identity; enroll once with --token T --ca-hash sha256:HEX from `certfleet token create --print-join-command`");
        }
        using var key = _store.CreateKey();
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + options.Node.Replace(",", "\\,", StringComparison.Ordinal)), key, HashAlgorithmName.SHA256);
        var csr = request.CreateSigningRequest();

        for (var attempt = 0; ; attempt++)
        {
            string? trustProblem = null;
            X509Certificate2? server = null;
            using var channel = CoordinatorChannels.ForEnrollment(options.Coordinator, options.CaHash, reason => trustProblem = reason, presented =>
            {
                server?.Dispose();
                server = presented;
            });
            var client = new AgentService.AgentServiceClient(channel);
            try
            {
                var response = await client.EnrollAsync(
                    new EnrollRequest { Token = options.Token, Node = options.Node, CsrDer = ByteString.CopyFrom(csr) },
                    deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
                Store(response, key, server);
                Log.Enrolled(logger, options.Node, options.Coordinator, response.Role);
                return _store.Load();
            }
            catch (RpcException e) when (trustProblem is not null)
            {
                throw new EnrollmentRejectedException($"enrollment refused: the coordinator at {options.Coordinator} is not the one pinned by --ca-hash: {trustProblem}", e);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated
                or StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.NotFound)
            {
                throw new EnrollmentRejectedException(
                    $"enrollment refused by {options.Coordinator}: {e.Status.Detail} ({e.StatusCode}); make a new token with `certfleet token create --node {options.Node}` and start again", e);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                var delay = ReconnectBackoff.Delay(attempt, Random.Shared);
                Log.EnrollRetry(logger, options.Coordinator, e.Status.Detail, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
            }
            finally
            {
                server?.Dispose();
            }
        }
    }

    private void Store(EnrollResponse response, ECDsa key, X509Certificate2? server)
    {
        using (server)
        {
            X509Certificate2 issued, fleetCa;
            try
            {
                issued = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
                fleetCa = X509CertificateLoader.LoadCertificate(response.FleetCaDer.ToByteArray());
            }
            catch (CryptographicException e)
            {
                throw new EnrollmentRejectedException($"the coordinator's Enroll answer holds no valid certificates ({e.Message}); nothing was stored", e);
            }
            using (issued)
            using (fleetCa)
            {
                var reason = "no TLS certificate seen";
                if (server is null || !CoordinatorTrust.IsPinnedFleetCa(server, fleetCa, options.CaHash!, out reason))
                {
                    throw new EnrollmentRejectedException(
                        $"enrollment refused: the coordinator at {options.Coordinator} is not the one pinned by --ca-hash: {reason}; nothing was stored");
                }
                if (!issued.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
                {
                    throw new EnrollmentRejectedException("the coordinator returned an identity certificate for another key; nothing was stored, enroll again");
                }
            }
        }
        _store.Save(response.CertificateDer.ToByteArray(), response.FleetCaDer.ToByteArray());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Enrolled as {Node} with coordinator {Coordinator} (role {Role})")]
        public static partial void Enrolled(ILogger logger, string node, Uri coordinator, string role);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Coordinator {Coordinator} unreachable for enrollment ({Reason}); retrying in {DelaySeconds:0.0} s")]
        public static partial void EnrollRetry(ILogger logger, Uri coordinator, string reason, double delaySeconds);
    }
}
