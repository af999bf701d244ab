using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Emergency;

/// <summary>
/// The cluster on the day it went down: every leaf certificate expired two days ago (the CAs have ten years left, as
/// they usually do), 3 masters on 127.0.10.11-13 that run real etcd, 2 workers; EC keys. Made once for the test class,
/// with a client certificate of its own (<see cref="ProbeCertificate"/>) to ask etcd about quorum whatever state the
/// cluster's own certificates are in.
/// </summary>
public sealed class ExpiredClusterFixture : ClusterPkiFixture
{
    public ExpiredClusterFixture()
        : base("ec", "--all-expired", "--loopback", "--ca-days-left", "3650", "--masters", "3", "--workers", "2")
    {
        var probe = Path.Combine(Directory, "probe");
        System.IO.Directory.CreateDirectory(probe);
        var ca = Path.Combine(NodeRoot("master-1"), "etc/kubernetes/pki");
        File.WriteAllText(Path.Combine(probe, "ext.cnf"), "extendedKeyUsage = clientAuth\n");
        Openssl.Checked("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=quorum-probe",
            "-keyout", ProbeKey, "-out", Path.Combine(probe, "probe.csr"));
        Openssl.Checked("x509", "-req", "-in", Path.Combine(probe, "probe.csr"), "-CA", Path.Combine(ca, "ca.crt"), "-CAkey", Path.Combine(ca, "ca.key"),
            "-set_serial", "0x" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)), "-days", "1",
            "-extfile", Path.Combine(probe, "ext.cnf"), "-out", ProbeCertificate);
        Cluster = new FolderCluster(Directory);
    }

    public FolderCluster Cluster { get; }

    public string ProbeCertificate => Path.Combine(Directory, "probe", "probe.crt");

    public string ProbeKey => Path.Combine(Directory, "probe", "probe.key");

    public static string EtcdEndpoint(string master) => $"https://127.0.10.{10 + int.Parse(master["master-".Length..], System.Globalization.CultureInfo.InvariantCulture)}:2379";

    /// <summary>`etcdctl endpoint health` on one member with the probe's certificate: healthy only while the cluster has quorum.</summary>
    public ProcessResult Health(string master) =>
        ProcessRunner.Run("etcdctl", [$"--endpoints={EtcdEndpoint(master)}", $"--cacert={Path.Combine(NodeRoot(master), "etc/kubernetes/pki/ca.crt")}",
            $"--cert={ProbeCertificate}", $"--key={ProbeKey}", "--dial-timeout=2s", "--command-timeout=3s", "endpoint", "health"],
            timeout: TimeSpan.FromSeconds(20));
}
