using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Net.Client;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>What an enrolling agent can check with nothing but the CA hash; on 127.0.30.6.</summary>
public sealed class PinningTests
{
    [Fact]
    public async Task Enroll_AgentWithOnlyTheCaHash_CanCheckTheAnsweredFleetCaIssuedTheTlsCertificateItSaw()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.30.6:7443");
        var token = await coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: DateTime.UtcNow.AddSeconds(20));
        X509Certificate2? presented = null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // nothing is trusted yet: keep what the server showed, judge it against the answer
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    presented = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
                    return true;
                },
            },
        };
        using var channel = GrpcChannel.ForAddress(coordinator.Url, new GrpcChannelOptions { HttpHandler = handler });
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var answer = await new AgentService.AgentServiceClient(channel)
            .EnrollAsync(AgentIdentity.Request(token.Token, "worker-1", key), deadline: DateTime.UtcNow.AddSeconds(20));

        using var fleetCa = X509CertificateLoader.LoadCertificate(answer.FleetCaDer.ToByteArray());
        Assert.Equal(token.CaHash, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(fleetCa.PublicKey.ExportSubjectPublicKeyInfo())));
        Assert.NotNull(presented);
        Assert.True(FleetChannels.ChainsTo(presented, fleetCa));
    }

    [Fact]
    public async Task Handshake_OpensslTrustingOnlyTheFleetCa_VerifiesTheServerForItsAddress()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.30.6:7444");
        var folder = ScratchDirectory.Create("pin");
        try
        {
            var caFile = Path.Combine(folder, "fleet-ca.crt");
            File.WriteAllText(caFile, coordinator.FleetCa.ExportCertificatePem());

            var handshake = ProcessRunner.Run("openssl", ["s_client", "-connect", "127.0.30.6:7444", "-alpn", "h2", "-CAfile", caFile,
                "-verify_return_error", "-verify_ip", "127.0.30.6"], standardInput: "", timeout: TimeSpan.FromSeconds(20));

            Assert.Contains("Verify return code: 0 (ok)", handshake.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("ALPN protocol: h2", handshake.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            ScratchDirectory.Delete(folder);
        }
    }
}
