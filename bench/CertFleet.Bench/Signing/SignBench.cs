using System.Diagnostics;
using System.Security.Cryptography;
using CertFleet.Bench.Output;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.State;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Bench.Signing;

/// <summary>
/// One thread, the coordinator's whole path per certificate: RenewalSigner.Sign (parse the reported certificate;
/// SigningPolicy.Judge: the node reported it, its issuer is a coordinator CA (the CA's signature checked once), the
/// identity fits the node, the CSR read once into a RenewalRequest (parsed, its signature checked, the rules);
/// CertificateIssuer: issue, DER encode, parse back) and the audit record it appends.
/// </summary>
internal static class SignBench
{
    private const int Warmup = 50;
    private const int Leaves = 32;

    public static void Run(int count, string keyType)
    {
        ResultLine.Note($"openssl speed -seconds 3 {keyType}: the one-core reference");
        var openssl = OpensslSpeed.SignsPerSecond(keyType);
        // the path with the state database where fsync is free (its CPU cost, the figure the goal is about), then on
        // the disk the coordinator really uses, where every issuance waits for its audit record's fsync
        var memory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var inMemory = Measure(memory, count, keyType, out var dotnet, out var unaudited);
        var onDisk = Measure(Path.GetTempPath(), Math.Min(count, 500), keyType, out _, out _);
        ResultLine.Print(("key", keyType), ("count", count), ("certsPerSecond", inMemory),
            ("opensslSignsPerSecond", openssl), ("ratio", inMemory / openssl),
            ("certsPerSecondWithoutAudit", unaudited), ("ratioWithoutAudit", unaudited / openssl),
            ("dotnetSignsPerSecond", dotnet), ("certsPerSecondStateOnDisk", onDisk));
    }

    /// <param name="token">where the CA key is: null for a key file, else a key inside this PKCS#11 token</param>
    internal static double Measure(string parent, int count, string keyType, out double dotnetSignsPerSecond, out double withoutAuditPerSecond,
        SoftHsmToken? token = null)
    {
        var directory = Directory.CreateDirectory(Path.Combine(parent, "certfleet-bench-sign-" + Guid.NewGuid().ToString("N")[..8]));
        try
        {
            var signer = Setup(directory.FullName, keyType, token, out var record, out var reported, out var csrs, out var authorities, out var audit);
            if (Environment.GetEnvironmentVariable("CERTFLEET_BENCH_PROFILE") == "1")
            {
                SignProfile.Run(Math.Min(count, 320), signer, authorities, audit, record, reported, csrs);
            }
            dotnetSignsPerSecond = RawSignsPerSecond(authorities.All[0].Key.Algorithm, reported[0].Der.ToByteArray(), count);
            var validity = TimeSpan.FromDays(365);
            for (var i = 0; i < Warmup; i++)
            {
                signer.Sign(record, reported[i % Leaves], csrs[i % Leaves], validity, "bench");
            }
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                signer.Sign(record, reported[i % Leaves], csrs[i % Leaves], validity, "bench");
            }
            var certsPerSecond = count / clock.Elapsed.TotalSeconds;
            withoutAuditPerSecond = WithoutAudit(authorities, record, reported, csrs, validity, count);
            ResultLine.Note($"state in {parent}: {certsPerSecond:0} renewals/s on one thread, {withoutAuditPerSecond:0}/s without the audit record "
                + $"({keyType}{(token is null ? "" : " in a PKCS#11 token")}; the CA key signs alone: {dotnetSignsPerSecond:0}/s)");
            authorities.Dispose();
            return certsPerSecond;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The path as the issue lists it (CSR parse, signature checks, policy, issue, DER encode): the calls
    /// RenewalSigner.Sign makes, in its order, without the audit record it appends, which is a database write.
    /// </summary>
    private static double WithoutAudit(ClusterAuthorities authorities, NodeRecord record, ReportedCertificate[] reported, byte[][] csrs,
        TimeSpan validity, int count)
    {
        var policy = new SigningPolicy(authorities);
        var issuer = new CertificateIssuer(TimeProvider.System);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var current = CertificateInfo.Parse(reported[i % Leaves].Der.Span, "leaf");
            var request = policy.Judge(record, reported[i % Leaves], current, csrs[i % Leaves], out var refusal)
                ?? throw new BenchException($"the policy refused a bench renewal: {refusal}");
            issuer.Renew(request, validity);
        }
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The CA key's bare signature rate through System.Security.Cryptography: the ceiling of any path that signs with it.</summary>
    internal static double RawSignsPerSecond(AsymmetricAlgorithm key, byte[] data, int count)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            _ = key switch
            {
                RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
                _ => throw new BenchException($"unsupported key {key.GetType().Name}"),
            };
        }
        return count / clock.Elapsed.TotalSeconds;
    }

    private static RenewalSigner Setup(string directory, string keyType, SoftHsmToken? token, out NodeRecord record, out ReportedCertificate[] reported,
        out byte[][] csrs, out ClusterAuthorities authorities, out AuditLog audit)
    {
        // a key in a token makes its own CA certificate, through the engine, as the coordinator will sign with it
        using var tokenKey = token?.Open();
        using var fileKey = token is null ? SyntheticPki.NewKey(keyType) : null;
        var caKey = tokenKey?.Algorithm ?? fileKey!;
        using var ca = SyntheticPki.Authority("kubernetes", caKey);
        var caPath = Path.Combine(directory, "ca.crt");
        var caKeyPath = token?.Uri ?? Path.Combine(directory, "ca.key");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        if (fileKey is not null)
        {
            File.WriteAllText(caKeyPath, SyntheticPki.PrivateKeyPem(fileKey));
        }

        // distinct certificates and keys, more than the coordinator keeps per thread (16), so every renewal pays
        // what a real one pays: its CSR's key loaded and its signatures checked for the first time
        reported = new ReportedCertificate[Leaves];
        csrs = new byte[Leaves][];
        for (var i = 0; i < Leaves; i++)
        {
            using var leafKey = SyntheticPki.NewKey(keyType);
            var leafDer = SyntheticPki.ClientCertificate(ca, "O=system:nodes, CN=system:node:worker-1", leafKey, 30);
            using var nodeKey = PrivateKey.Parse(Pem.Read(SyntheticPki.PrivateKeyPem(leafKey), "leaf key")[0], "leaf key");
            csrs[i] = CertificateRequestBuilder.FromExistingCertificate(CertificateInfo.Parse(leafDer, "leaf"), nodeKey);
            reported[i] = new ReportedCertificate
            {
                Der = ByteString.CopyFrom(leafDer),
                Path = $"/var/lib/kubelet/pki/kubelet-client-{i}.crt",
                KeyPath = $"/var/lib/kubelet/pki/kubelet-client-{i}.key",
                KeyState = KeyState.Matches,
                Owner = CertificateOwner.Certfleet,
                IssuerPath = "/etc/kubernetes/pki/ca.crt",
            };
        }
        var report = new InventoryReport { Certificates = { reported } };
        record = new NodeRecord("worker-1", NodeRole.Worker, true, DateTimeOffset.UtcNow, report);

        var options = new CoordinatorOptions
        {
            Listen = "127.0.22.1:7622",
            StateDirectory = directory,
            ClusterAuthorities = [new ClusterAuthorityFiles(caPath, caKeyPath, PinFile: token?.PinFile)],
        };
        authorities = new ClusterAuthorities(options, NullLogger<ClusterAuthorities>.Instance);
        audit = new AuditLog(new StateDatabase(directory), TimeProvider.System, NullLogger<AuditLog>.Instance);
        return new RenewalSigner(authorities, new SigningPolicy(authorities), audit, TimeProvider.System, NullLogger<RenewalSigner>.Instance);
    }
}
