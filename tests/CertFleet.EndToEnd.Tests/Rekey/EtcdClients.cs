using System.Diagnostics;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// After retire, every etcd member refuses the apiserver's original etcd client certificate (signed by the original
/// CA, still within its validity) and accepts the current one. etcdctl says only "context deadline exceeded" when a
/// handshake is refused, so the member's own log must show why: a rejected connection over the client certificate.
/// </summary>
internal static class EtcdClients
{
    private const string Pki = RekeyedAuthority.Pki;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>A refused handshake is logged at once; etcdctl only gives up at its timeout, which need not be long.</summary>
    private static readonly TimeSpan RefusalTimeout = TimeSpan.FromSeconds(1.5);

    public static void AssertOriginalRefusedCurrentAccepted(LoopbackFleet fleet)
    {
        var current = fleet.NodeRoot("master-1") + Pki;
        var original = fleet.Original("master-1") + Pki;
        for (var i = 0; i < Etcdctl.Members.Length; i++)
        {
            var (master, member) = (LoopbackFleet.Masters[i], Etcdctl.Members[i]);
            var log = Path.Combine(fleet.NodeRoot(master), "var/log/etcd.log");
            var logged = new FileInfo(log).Length;

            var refused = Etcdctl.Put(member, $"{current}/ca.crt", $"{original}/apiserver-etcd-client.crt", $"{original}/apiserver-etcd-client.key",
                "/certfleet/rekey/original-client", "refused?", RefusalTimeout);
            Assert.True(refused.ExitCode != 0,
                $"etcd on {master} ({member}) accepted a write from master-1's original apiserver-etcd-client.crt, signed by the original CA");
            var why = RejectionLogged(log, logged);
            Assert.True(why is not null, $"etcd on {master} ({member}) refused the original client certificate, but its log {log} names no "
                + $"rejected client certificate; etcdctl said: {Etcdctl.Error(refused)}");

            var accepted = Etcdctl.Put(member, $"{current}/ca.crt", $"{current}/apiserver-etcd-client.crt", $"{current}/apiserver-etcd-client.key",
                "/certfleet/rekey/current-client", "accepted", Timeout);
            Assert.True(accepted.ExitCode == 0, $"etcd on {master} ({member}) refused master-1's current {Pki}/apiserver-etcd-client.crt: {Etcdctl.Error(accepted)}");
        }
    }

    /// <summary>The first line the member logged after <paramref name="offset"/> about a refused client certificate (it may take a moment to appear).</summary>
    private static string? RejectionLogged(string log, long offset)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(offset, SeekOrigin.Begin);
            var added = new StreamReader(stream).ReadToEnd();
            var line = added.Split('\n').FirstOrDefault(l => l.Contains("rejected connection", StringComparison.Ordinal)
                && l.Contains("client certificate", StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }
            Thread.Sleep(200);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(3));
        return null;
    }
}
