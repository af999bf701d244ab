using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using CertFleet.Pki.Text;
using CertFleet.Protocol.Trust;

namespace CertFleet.Coordinator.Identity;

/// <summary>
/// The coordinator's own fleet CA (never a cluster CA: an agent credential must be useless against the apiserver).
/// Made on first start under the state dir with the server certificate and the admin credential; loaded later.
/// It issues agent identities and decides which client certificates are the fleet's.
/// </summary>
internal sealed partial class FleetAuthority : IDisposable
{
    public static readonly TimeSpan AuthorityValidity = TimeSpan.FromDays(3650);
    public static readonly TimeSpan ServerValidity = TimeSpan.FromDays(365);
    public static readonly TimeSpan AdminValidity = TimeSpan.FromDays(3650);
    public static readonly TimeSpan AgentValidity = TimeSpan.FromDays(30);

    // a server certificate this close to expiry, or not naming the listen host, is made again at start
    private static readonly TimeSpan ServerRenewBefore = TimeSpan.FromDays(30);

    private const string CommonNameOid = "2.5.4.3";
    private const string OrganizationOid = "2.5.4.10";

    private readonly TimeProvider _time;
    private readonly ECDsa _key;
    private readonly StateFiles _files;
    private readonly IReadOnlyList<string> _hosts;
    private readonly ILogger _logger;
    private readonly Lock _serverLock = new();
    private X509Certificate2 _server;

    public FleetAuthority(CoordinatorOptions options, TimeProvider time, ILogger<FleetAuthority> logger)
    {
        _time = time;
        _logger = logger;
        _files = new StateFiles(options.StateDirectory);
        var listen = ListenAddress.TryParse(options.Listen, "--listen", out var error)
            ?? throw new CoordinatorOptionsException([error!]);
        CoordinatorUrl = listen.Url;
        _files.EnsureFolder();

        (Certificate, _key) = _files.LoadOrCreate(StateFiles.Authority, () =>
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Log.AuthorityCreated(logger, _files.Folder);
            return (FleetCertificates.CreateAuthority(key, Now, AuthorityValidity), key);
        });
        CaHash = Sha256Text.Format(SHA256.HashData(Certificate.PublicKey.ExportSubjectPublicKeyInfo()));

        _hosts = ServerNames(listen);
        _server = LoadServer();
        var (admin, adminKey) = _files.LoadOrCreate(StateFiles.Admin, () =>
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return (FleetCertificates.CreateClient(Certificate, _key, FleetCertificates.AdminSubject(),
                new PublicKey(key), Now, AdminValidity), key);
        });
        using (admin)
        using (adminKey)
        {
            if (AdminConfig.NeedsWrite(AdminConfigPath, CoordinatorUrl))
            {
                AdminConfig.Write(AdminConfigPath, CoordinatorUrl, Certificate.ExportCertificatePem(),
                    admin.ExportCertificatePem(), adminKey.ExportPkcs8PrivateKeyPem());
                Log.AdminConfigWritten(logger, AdminConfigPath, CoordinatorUrl);
            }
        }
    }

    /// <summary>The fleet CA certificate (public part).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>"sha256:&lt;hex of SHA-256 of the CA's SubjectPublicKeyInfo DER&gt;", what agents pin.</summary>
    public string CaHash { get; }

    /// <summary>The URL agents and operators dial: https://HOST:PORT.</summary>
    public string CoordinatorUrl { get; }

    /// <summary>
    /// The coordinator's TLS certificate with its key, for each handshake: one that nears expiry is replaced on the
    /// spot, so a coordinator that runs for years never serves an expired certificate.
    /// </summary>
    public X509Certificate2 ServerCertificate
    {
        get
        {
            lock (_serverLock)
            {
                if (_server.NotAfter.ToUniversalTime() - Now.UtcDateTime < ServerRenewBefore)
                {
                    // the old one stays undisposed: a handshake in progress may still use it
                    _server = LoadServer();
                }
                return _server;
            }
        }
    }

    public string AdminConfigPath => Path.Combine(_files.Folder, "admin.conf");

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// An agent identity (CN = node, clientAuth, 30 days) for the key of an enrollment CSR. Only the CSR's public
    /// key is used, after its signature is verified; whatever else it asks for is ignored.
    /// </summary>
    public byte[] IssueAgentIdentity(string node, byte[] csrDer)
    {
        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequest(csrDer, HashAlgorithmName.SHA256);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"the enrollment CSR of node {node} is not a valid signed PKCS#10 request ({e.Message}); the agent must send a CSR signed with its new key", e);
        }
        var key = csr.PublicKey;
        var keyIsUsable = key.Oid.Value switch
        {
            "1.2.840.10045.2.1" => true,
            "1.2.840.113549.1.1.1" => key.GetRSAPublicKey() is { KeySize: >= 2048 },
            _ => false,
        };
        if (!keyIsUsable)
        {
            throw new ArgumentException($"the enrollment CSR of node {node} has a key CertFleet does not accept; use ECDSA P-256/P-384 or RSA of at least 2048 bits");
        }
        using var identity = FleetCertificates.CreateClient(Certificate, _key, FleetCertificates.NodeSubject(node), key, Now, AgentValidity);
        return identity.RawData;
    }

    /// <summary>True when the certificate chains to the fleet CA and is valid now (custom trust only, no revocation check).</summary>
    public bool Trusts(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Now.UtcDateTime;
        return chain.Build(certificate)
            && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span);
    }

    /// <summary>The admin credential: issued here, CN certfleet-admin, O certfleet:admins.</summary>
    public bool IsAdmin(X509Certificate2? certificate) =>
        certificate is not null && Trusts(certificate)
        && FleetCertificates.Attribute(certificate.SubjectName, CommonNameOid) == FleetCertificates.AdminCommonName
        && FleetCertificates.Attribute(certificate.SubjectName, OrganizationOid) == FleetCertificates.AdminOrganization;

    /// <summary>The node an agent identity names (its CN), or null when the certificate is not an agent identity from here.</summary>
    public string? NodeOf(X509Certificate2? certificate)
    {
        if (certificate is null || !Trusts(certificate) || !FleetCertificates.HasClientAuth(certificate)
            || FleetCertificates.Attribute(certificate.SubjectName, OrganizationOid) is not null)
        {
            return null;
        }
        return FleetCertificates.Attribute(certificate.SubjectName, CommonNameOid);
    }

    /// <summary>True when the server certificate names <paramref name="node"/> (a host this coordinator is dialled at).</summary>
    public bool IsServerName(string node) =>
        _hosts.Any(h => string.Equals(h, node, StringComparison.OrdinalIgnoreCase));

    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
        _server.Dispose();
    }

    private bool NeedsNewServerCertificate(X509Certificate2 certificate) =>
        certificate.NotAfter.ToUniversalTime() - Now.UtcDateTime < ServerRenewBefore || !Names(certificate, _hosts);

    private X509Certificate2 LoadServer()
    {
        var (certificate, key) = _files.LoadOrCreate(StateFiles.Server, CreateServerPair);
        if (NeedsNewServerCertificate(certificate))
        {
            certificate.Dispose();
            key.Dispose();
            (certificate, key) = CreateServerPair();
            _files.Save(StateFiles.Server, certificate, key);
            Log.ServerCertificateRenewed(_logger, string.Join(", ", _hosts));
        }
        using (certificate)
        using (key)
        {
            return certificate.CopyWithPrivateKey(key);
        }

        (X509Certificate2, ECDsa) CreateServerPair()
        {
            var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return (FleetCertificates.CreateServer(Certificate, _key, new PublicKey(serverKey), _hosts, Now, ServerValidity), serverKey);
        }
    }

    /// <summary>
    /// What the server certificate names: the listen host, localhost, and for a wildcard listen address this
    /// machine's name and every address of its interfaces, so agents may dial any of them.
    /// </summary>
    private static List<string> ServerNames(ListenAddress listen)
    {
        var names = new List<string> { listen.PublicHost, "localhost", "127.0.0.1", "::1" };
        if (listen.PublicHost != listen.Host)
        {
            // listen.Host is 0.0.0.0 or ::, which no client dials
            names.AddRange(NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .Where(a => !a.IsIPv6LinkLocal)
                .Select(a => a.ToString()));
        }
        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// True when the certificate is what the clients require for every host (one made before the coordinator's
    /// dedicated identity existed is not, and is made again at start).
    /// </summary>
    private bool Names(X509Certificate2 certificate, IReadOnlyList<string> hosts) =>
        hosts.All(h => CoordinatorIdentity.Problem(certificate, h, Certificate, at: Now.UtcDateTime) is null);

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Created the fleet CA (EC P-256, 10 years) in {Folder}; it is not a cluster CA")]
        public static partial void AuthorityCreated(ILogger logger, string folder);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Issued a new server certificate for {Hosts}")]
        public static partial void ServerCertificateRenewed(ILogger logger, string hosts);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Wrote the admin credential to {Path} for {Url}; copy it to the operator's machine (mode 0600)")]
        public static partial void AdminConfigWritten(ILogger logger, string path, string url);
    }
}
