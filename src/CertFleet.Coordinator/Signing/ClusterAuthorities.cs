using System.Security.Cryptography;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.State;
using CertFleet.Pki;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Signing;

/// <summary>
/// The cluster CAs the coordinator signs with (every --ca-cert/--ca-key pair). A CA certificate renewed here
/// (same key) replaces the loaded one in memory and is kept in the state database (<see cref="RenewedAuthorityStore"/>),
/// so a restart, and every other coordinator of a group, signs with it even though the --ca-cert file still holds the
/// old one. Releases before coordinator groups kept it in &lt;state-dir&gt;/authorities, which is still read.
/// </summary>
internal sealed partial class ClusterAuthorities : IDisposable
{
    private readonly object _gate = new();
    private readonly string _renewedDirectory;
    private readonly string _stateDirectory;
    private readonly ILogger<ClusterAuthorities> _logger;
    private readonly RenewedAuthorityStore? _renewed;
    private List<CertificateAuthority> _authorities;
    private List<AuthorityRekey> _rekeys;
    private int _version;

    /// <param name="database">where renewed CA certificates are kept (null: the state dir's files, for tests of signing alone)</param>
    public ClusterAuthorities(CoordinatorOptions options, ILogger<ClusterAuthorities> logger, StateDatabase? database = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        _renewed = database is null ? null : new RenewedAuthorityStore(database);
        _renewedDirectory = Path.Combine(options.StateDirectory, "authorities");
        _stateDirectory = options.StateDirectory;
        _authorities = options.ClusterAuthorities.Select(Load).ToList();
        _rekeys = AuthorityRekeyFiles.Load(options.StateDirectory);
        ApplyRetiredRekeys();
    }

    /// <summary>
    /// The --ca-cert/--ca-key files may still hold a re-keyed CA: sign with its successor, and say where it is. A CA
    /// re-keyed twice is followed along the chain (original, first successor, second), whatever order the re-keys'
    /// folders list in: rollout ids made in the same second do not sort by time.
    /// </summary>
    private void ApplyRetiredRekeys()
    {
        var retired = _rekeys.Where(r => r.State == RekeyState.Retired).ToList();
        // bounded: a damaged state folder whose re-keys name each other in a loop must not hang the start
        for (var (replaced, round) = (true, 0); replaced && round <= retired.Count; round++)
        {
            replaced = false;
            foreach (var rekey in retired)
            {
                if (ReplaceBySuccessor(rekey))
                {
                    Log.RekeyedAuthorityLoaded(_logger, rekey.Successor.Certificate.Subject, AuthorityRekeyFiles.FolderOf(_stateDirectory, rekey));
                    replaced = true;
                }
            }
        }
    }

    public IReadOnlyList<CertificateAuthority> All
    {
        get
        {
            lock (_gate)
            {
                return _authorities.ToList();
            }
        }
    }

    /// <summary>The CA that signed <paramref name="certificate"/> (names, key ids and signature), else null.</summary>
    public CertificateAuthority? IssuerOf(CertificateInfo certificate) => Issued(certificate)?.Authority;

    /// <summary>
    /// <paramref name="certificate"/> with the CA that signed it, checked once for what is built on it, else null. The
    /// successors of CAs being re-keyed count too: a leaf re-issued in the issue phase is still the coordinator's.
    /// </summary>
    public IssuedCertificate? Issued(CertificateInfo certificate) =>
        IssuedCertificate.Find(certificate, [.. All, .. ActiveRekeys().Select(r => r.Successor)]);

    /// <summary>Changes whenever the CAs or a re-key's state change, so what was computed from them can be dropped.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>A coordinator CA as status shows it: its CN and key id, and its part in a running re-key.</summary>
    public string Describe(CertificateInfo authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var keyId = authority.ShortKeyId;
        var active = ActiveRekeys();
        var role = active.Any(r => r.Replaces(authority)) ? ", old: being re-keyed"
            : active.Any(r => r.Successor.Certificate.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(authority.SubjectPublicKeyInfoDer)) ? ", new: from a re-key"
            : "";
        return $"{Rollouts.RekeySuccessors.CommonName(authority)} (key {keyId}{role})";
    }

    /// <summary>The CA that signs what <paramref name="issuer"/> issued: its successor once a re-key reached the issue phase.</summary>
    public CertificateAuthority SignerFor(CertificateAuthority issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        return ActiveRekeys().FirstOrDefault(r => r.State == RekeyState.Issue && r.Replaces(issuer.Certificate))?.Successor ?? issuer;
    }

    /// <summary>The CAs rollout <paramref name="rolloutId"/> re-keys, in the order they were named.</summary>
    public IReadOnlyList<AuthorityRekey> Rekeys(string rolloutId)
    {
        lock (_gate)
        {
            return _rekeys.Where(r => r.RolloutId == rolloutId).OrderBy(r => r.Index).ToList();
        }
    }

    /// <summary>Records the successors of a re-key in the state folder (keys 0600) before the rollout that uses them exists.</summary>
    public void BeginRekey(string rolloutId, IReadOnlyList<(CertificateInfo Old, CertificateAuthority Successor, string KeyPem)> successors)
    {
        ArgumentNullException.ThrowIfNull(successors);
        var added = successors.Select((s, i) => (Rekey: new AuthorityRekey(rolloutId, i, s.Old, s.Successor, RekeyState.Trust), s.KeyPem)).ToList();
        foreach (var (rekey, keyPem) in added)
        {
            AuthorityRekeyFiles.Save(_stateDirectory, rekey, keyPem);
        }
        lock (_gate)
        {
            _rekeys.AddRange(added.Select(a => a.Rekey));
            _version++;
        }
    }

    /// <summary>Moves every CA of the re-key to <paramref name="state"/>; at Retired each successor replaces its old CA for good.</summary>
    public void AdvanceRekey(string rolloutId, RekeyState state)
    {
        lock (_gate)
        {
            _rekeys = _rekeys.Select(r => r.RolloutId == rolloutId && r.State < state ? r with { State = state } : r).ToList();
            _version++;
            foreach (var rekey in _rekeys.Where(r => r.RolloutId == rolloutId))
            {
                AuthorityRekeyFiles.SaveState(_stateDirectory, rekey);
                if (state == RekeyState.Retired)
                {
                    ReplaceBySuccessor(rekey);
                }
            }
        }
    }

    /// <summary>Signs with <paramref name="rekey"/>'s successor in place of the CA it re-keyed; false when no CA here is that one.</summary>
    private bool ReplaceBySuccessor(AuthorityRekey rekey)
    {
        if (_authorities.FirstOrDefault(a => rekey.Replaces(a.Certificate)) is not { } old)
        {
            return false;
        }
        _authorities = _authorities.Select(a => ReferenceEquals(a, old) ? rekey.Successor : a).ToList();
        return true;
    }

    private List<AuthorityRekey> ActiveRekeys()
    {
        lock (_gate)
        {
            return _rekeys.Where(r => r.State != RekeyState.Retired).ToList();
        }
    }

    /// <summary>The coordinator's CA that <paramref name="certificate"/> is a copy of (any renewal of it: same subject and key), else null.</summary>
    public CertificateAuthority? SameAuthorityAs(CertificateInfo certificate) =>
        certificate.IsCa
            ? All.FirstOrDefault(a => a.Certificate.SubjectDer.AsSpan().SequenceEqual(certificate.SubjectDer)
                && a.Certificate.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(certificate.SubjectPublicKeyInfoDer))
            : null;

    /// <summary>Signs with <paramref name="renewed"/> from now on, and keeps it across restarts.</summary>
    public void Replace(CertificateAuthority current, CertificateInfo renewed)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(renewed);
        if (_renewed is not null)
        {
            // first: a coordinator that lost its group's lease fails here and keeps signing with what the group has
            _renewed.Save(renewed);
        }
        else
        {
            Directory.CreateDirectory(_renewedDirectory);
            var file = RenewedFile(renewed.SubjectPublicKeyInfoDer);
            var temporary = file + ".tmp";
            File.WriteAllText(temporary, renewed.ToPem());
            File.Move(temporary, file, overwrite: true);
        }
        lock (_gate)
        {
            _authorities = _authorities.Select(a => ReferenceEquals(a, current) ? a with { Certificate = renewed } : a).ToList();
            _version++;
        }
        Log.AuthorityReplaced(_logger, renewed.Subject, renewed.SerialHex, renewed.NotAfter);
    }

    public void Dispose()
    {
        foreach (var key in _authorities.Select(a => a.Key).Concat(_rekeys.Select(r => r.Successor.Key)).Distinct())
        {
            key.Dispose();
        }
    }

    private CertificateAuthority Load(ClusterAuthorityFiles files)
    {
        foreach (var warning in ClusterAuthorityReader.ReadableSecrets(files))
        {
            Log.ReadableSecret(_logger, warning);
        }
        // decrypts an encrypted key with its passphrase file, or opens a token's key; checks the two belong together
        var loaded = ClusterAuthorityReader.Load(files);
        var certificate = loaded.Certificate;
        var key = loaded.Key;
        var renewedFile = RenewedFile(certificate.SubjectPublicKeyInfoDer);
        if (File.Exists(renewedFile))
        {
            var renewed = ReadCertificate(renewedFile);
            if (IsRenewalOf(renewed, certificate))
            {
                Log.RenewedAuthorityLoaded(_logger, renewed.Subject, renewedFile, renewed.NotAfter);
                certificate = renewed;
            }
        }
        if (_renewed?.Find(certificate.SubjectPublicKeyInfoDer) is { } shared && IsRenewalOf(shared, certificate))
        {
            Log.RenewedAuthorityLoaded(_logger, shared.Subject, "the state database", shared.NotAfter);
            certificate = shared;
        }
        return new CertificateAuthority(certificate, key);
    }

    /// <summary>
    /// Signs with the newest certificate of each CA the group's database holds: run when this coordinator becomes the
    /// active one, since the one before may have renewed a CA while this one stood by.
    /// </summary>
    public void Refresh()
    {
        if (_renewed is null)
        {
            return;
        }
        lock (_gate)
        {
            var refreshed = _authorities.Select(a => _renewed.Find(a.Certificate.SubjectPublicKeyInfoDer) is { } shared && IsRenewalOf(shared, a.Certificate)
                ? a with { Certificate = shared }
                : a).ToList();
            if (!refreshed.SequenceEqual(_authorities))
            {
                _authorities = refreshed;
                _version++;
            }
        }
    }

    private static bool IsRenewalOf(CertificateInfo renewed, CertificateInfo current) =>
        renewed.NotAfter > current.NotAfter && renewed.SubjectDer.AsSpan().SequenceEqual(current.SubjectDer);

    private string RenewedFile(byte[] subjectPublicKeyInfo) =>
        Path.Combine(_renewedDirectory, Convert.ToHexString(SHA256.HashData(subjectPublicKeyInfo))[..16].ToLowerInvariant() + ".crt");

    private static CertificateInfo ReadCertificate(string path)
    {
        var block = ReadBlocks(path).FirstOrDefault(b => b.Label == "CERTIFICATE")
            ?? throw new PkiException($"{path}: no CERTIFICATE block; --ca-cert takes a PEM CA certificate file");
        return CertificateInfo.Parse(block.Der, path);
    }

    private static IReadOnlyList<PemBlock> ReadBlocks(string path)
    {
        try
        {
            return Pem.Read(File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"{path}: cannot read it ({e.Message}); check the path and its permissions", e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "{Warning}")]
        public static partial void ReadableSecret(ILogger logger, string warning);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Signing with renewed CA certificate {Subject} from {File} (valid until {NotAfter:u})")]
        public static partial void RenewedAuthorityLoaded(ILogger logger, string subject, string file, DateTimeOffset notAfter);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "CA {Subject} was re-keyed: signing with its new key and certificate from {Folder}; point --ca-cert/--ca-key at copies of new.crt and new.key")]
        public static partial void RekeyedAuthorityLoaded(ILogger logger, string subject, string folder);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "CA certificate {Subject} renewed with its own key: serial {Serial}, valid until {NotAfter:u}")]
        public static partial void AuthorityReplaced(ILogger logger, string subject, string serial, DateTimeOffset notAfter);
    }
}
