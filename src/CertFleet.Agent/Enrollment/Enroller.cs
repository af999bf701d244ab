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
/// here, a CSR with CN = node name, sent over TLS pinned to the CA hash. An unreachable coordinator, or a standby of
/// the group, hands over to the next coordinator listed; when none took it, all are retried with backoff. A refusal
/// (token, pin) is final.
/// </summary>
internal sealed partial class Enroller(AgentOptions options, TimeProvider time, ILogger<Enroller> logger)
{
    private readonly IdentityStore _store = new(options.StateDirectory);

    public async Task<AgentIdentity> EnsureIdentityAsync(CancellationToken cancellationToken)
    {
        if (_store.Exists)
        {
            var stored = _store.Load();
            if (stored.Certificate.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime || options.Token is null)
            {
                return stored;
            }
            // an expired identity cannot be renewed; a token given now enrolls the node again
            stored.Dispose();
        }
        if (options.Token is null || options.CaHash is null)
        {
            throw new EnrollmentRejectedException(
                $"{options.StateDirectory} holds no agent identity; enroll once with --token T --ca-hash sha256:HEX from `certfleet token create --print-join-command`");
        }
        using var key = _store.CreateKey();
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + options.Node.Replace(",", "\\,", StringComparison.Ordinal)), key, HashAlgorithmName.SHA256);
        var csr = request.CreateSigningRequest();

        var group = new CoordinatorGroup(options.Coordinators);
        for (var attempt = 0; ;)
        {
            var coordinator = group.Current;
            string? trustProblem = null;
            try
            {
                using var fleetCa = await DiscoverPinnedCaAsync(coordinator, cancellationToken);
                using var channel = CoordinatorChannels.ForEnrollment(coordinator, fleetCa, reason => trustProblem = reason);
                var client = new AgentService.AgentServiceClient(channel);
                var response = await client.EnrollAsync(
                    new EnrollRequest { Token = options.Token, Node = options.Node, CsrDer = ByteString.CopyFrom(csr) },
                    deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
                Store(response, key);
                Log.Enrolled(logger, options.Node, coordinator, response.Role);
                return _store.Load();
            }
            catch (RpcException e) when (trustProblem is not null)
            {
                throw new EnrollmentRejectedException($"enrollment refused: the coordinator at {coordinator} is not the one pinned by --ca-hash: {trustProblem}", e);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated
                or StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.NotFound)
            {
                throw new EnrollmentRejectedException(
                    $"enrollment refused by {coordinator}: {e.Status.Detail} ({e.StatusCode}); make a new token with `certfleet token create --node {options.Node}` and start again", e);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                // unreachable, or a standby (which refuses Enroll): the next of the group, and a pause only after all of them
                if (!group.Failed(e))
                {
                    Log.EnrollTryNext(logger, coordinator, e.Status.Detail, group.Current);
                    continue;
                }
                var delay = ReconnectBackoff.Delay(attempt++, Random.Shared);
                Log.EnrollRetry(logger, coordinator, e.Status.Detail, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }

    /// <summary>The identity as stored now (after a renewal).</summary>
    public AgentIdentity Reload() => _store.Load();

    /// <summary>
    /// Renews the agent's identity over mTLS with the current one (Enroll with no token, the coordinator's renewal
    /// path): a new key made here, the certificate stored beside the live pair and promoted only when it matches.
    /// Asked of <paramref name="coordinator"/>, the one the agent is connected to (the active one of a group).
    /// Returns false, with the reason logged, when the coordinator is unreachable or refuses; the live identity stays.
    /// </summary>
    public async Task<bool> RenewAsync(AgentIdentity current, Uri coordinator, CancellationToken cancellationToken)
    {
        using var key = _store.CreateNextKey();
        var csr = new CertificateRequest(new X500DistinguishedName("CN=" + options.Node.Replace(",", "\\,", StringComparison.Ordinal)), key, HashAlgorithmName.SHA256)
            .CreateSigningRequest();
        string? trustProblem = null;
        try
        {
            using var channel = CoordinatorChannels.ForIdentity(coordinator, current, reason => trustProblem = reason);
            var response = await new AgentService.AgentServiceClient(channel).EnrollAsync(
                new EnrollRequest { Node = options.Node, CsrDer = ByteString.CopyFrom(csr) },
                deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
            using var issued = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
            if (!issued.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo())
                || !IssuedByFleetCa(issued, current.FleetCa))
            {
                _store.AbandonNext();
                Log.RenewalFailed(logger, "the coordinator returned a certificate for another key or from another CA; the current identity is kept");
                return false;
            }
            _store.Promote(issued.RawData);
            Log.Renewed(logger, options.Node, issued.SerialNumber, issued.NotAfter.ToUniversalTime());
            return true;
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            _store.AbandonNext();
            Log.RenewalFailed(logger, trustProblem ?? $"{e.Status.Detail} ({e.StatusCode})");
            return false;
        }
    }

    private bool IssuedByFleetCa(X509Certificate2 issued, X509Certificate2 fleetCa)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(fleetCa);
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        return chain.Build(issued) && chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(fleetCa.RawData);
    }

    /// <summary>
    /// Asks the coordinator for its fleet CA and keeps it only when its SubjectPublicKeyInfo hashes to --ca-hash and it
    /// issued the certificate the coordinator presented; only then is the token sent.
    /// </summary>
    private async Task<X509Certificate2> DiscoverPinnedCaAsync(Uri coordinator, CancellationToken cancellationToken)
    {
        X509Certificate2? presented = null;
        using var channel = CoordinatorChannels.ForDiscovery(coordinator, server => presented = server);
        var response = await new AgentService.AgentServiceClient(channel).DiscoverAsync(new DiscoverRequest(),
            deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
        using (presented)
        {
            var fleetCa = X509CertificateLoader.LoadCertificate(response.FleetCaDer.ToByteArray());
            if (!CryptographicOperations.FixedTimeEquals(CoordinatorTrust.SpkiHash(fleetCa), options.CaHash!))
            {
                fleetCa.Dispose();
                throw new EnrollmentRejectedException($"enrollment refused: the coordinator at {coordinator} is not the one pinned by "
                    + "--ca-hash: its CA has another hash; check --ca-hash against `certfleet token create --print-join-command`");
            }
            if (presented is null)
            {
                fleetCa.Dispose();
                throw new EnrollmentRejectedException($"enrollment refused: the server at {coordinator} presented no certificate");
            }
            if (!CoordinatorTrust.IsCoordinator(presented, [], fleetCa, coordinator, out var reason))
            {
                // the token is worth a node identity: never sent to a server that is not the coordinator itself
                fleetCa.Dispose();
                throw new EnrollmentRejectedException($"enrollment refused, the token was not sent: {reason}");
            }
            return fleetCa;
        }
    }

    private void Store(EnrollResponse response, ECDsa key)
    {
        using var issued = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
        using var fleetCa = X509CertificateLoader.LoadCertificate(response.FleetCaDer.ToByteArray());
        if (!issued.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new EnrollmentRejectedException("the coordinator returned an identity certificate for another key; nothing was stored, enroll again");
        }
        if (!CryptographicOperations.FixedTimeEquals(CoordinatorTrust.SpkiHash(fleetCa), options.CaHash))
        {
            throw new EnrollmentRejectedException("the coordinator returned a fleet CA other than the pinned one; nothing was stored, check --ca-hash");
        }
        _store.Save(response.CertificateDer.ToByteArray(), response.FleetCaDer.ToByteArray());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Enrolled as {Node} with coordinator {Coordinator} (role {Role})")]
        public static partial void Enrolled(ILogger logger, string node, Uri coordinator, string role);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Renewed the agent identity of {Node}: serial {Serial}, valid until {NotAfter:u}")]
        public static partial void Renewed(ILogger logger, string node, string serial, DateTime notAfter);

        [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Could not renew the agent identity ({Reason}); retrying in an hour, the current one is used until it expires")]
        public static partial void RenewalFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Coordinator {Coordinator} unreachable for enrollment ({Reason}); retrying in {DelaySeconds:0.0} s")]
        public static partial void EnrollRetry(ILogger logger, Uri coordinator, string reason, double delaySeconds);

        [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Coordinator {Coordinator} did not take the enrollment ({Reason}); trying {Next}")]
        public static partial void EnrollTryNext(ILogger logger, Uri coordinator, string reason, Uri next);
    }
}
