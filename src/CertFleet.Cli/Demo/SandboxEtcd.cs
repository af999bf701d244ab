using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Cli.Demo;

/// <summary>
/// Runs a sandbox master's etcd member as its etcd.service would, rooted in the node's folder: every /etc and
/// /var path of /etc/etcd/etcd.env is read under the root. The process outlives the command that started it
/// (it is what `systemctl restart etcd` would leave running); its pid is in ROOT/run/etcd.pid.
/// </summary>
internal sealed class SandboxEtcd(string root)
{
    private string PidFile => Path.Combine(root, "run", "etcd.pid");

    public static bool IsInstalled() =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "etcd")));

    public IReadOnlyDictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path.Combine(root, "etc/etcd/etcd.env")))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || line.StartsWith('#'))
            {
                continue;
            }
            var value = line[(equals + 1)..];
            settings[line[..equals]] = value.StartsWith("/etc/", StringComparison.Ordinal) || value.StartsWith("/var/", StringComparison.Ordinal)
                ? root + value
                : value;
        }
        return settings;
    }

    public void Start()
    {
        if (IsRunning())
        {
            return;
        }
        Directory.CreateDirectory(Path.Combine(root, "run"));
        Directory.CreateDirectory(Path.Combine(root, "var/log"));
        Directory.CreateDirectory(Path.Combine(root, "var/lib"));
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("setsid etcd >>\"$CERTFLEET_ETCD_LOG\" 2>&1 < /dev/null & echo $!");
        start.Environment["CERTFLEET_ETCD_LOG"] = Path.Combine(root, "var/log/etcd.log");
        foreach (var (key, value) in Settings())
        {
            start.Environment[key] = value;
        }
        using var shell = Process.Start(start)!;
        var pid = shell.StandardOutput.ReadLine()?.Trim();
        shell.WaitForExit();
        File.WriteAllText(PidFile, pid + "\n");
        WaitUntilListening(TimeSpan.FromSeconds(10));
    }

    public void Stop()
    {
        if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(); // SIGKILL; etcd's WAL makes that safe, and a demo has no time to wait
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            // already gone
        }
        File.Delete(PidFile);
    }

    public bool IsRunning()
    {
        if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>GET /health over mTLS with the node's apiserver-etcd-client certificate; also says which serial etcd serves.</summary>
    public async Task<(bool Healthy, string Detail)> CheckAsync(CancellationToken cancellation)
    {
        var pki = Path.Combine(root, "etc/kubernetes/pki");
        var url = new Uri(Settings()["ETCD_ADVERTISE_CLIENT_URLS"].Split(',')[0]);
        // every certificate of ca.crt, as etcdctl --cacert takes them: during a CA re-key it is a bundle of the old
        // CA and the new one, and a member may serve under either
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(Path.Combine(pki, "ca.crt"));
        using var client = X509Certificate2.CreateFromPemFile(Path.Combine(pki, "apiserver-etcd-client.crt"), Path.Combine(pki, "apiserver-etcd-client.key"));
        string? servedSerial = null;
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [client],
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                {
                    if (presented is null)
                    {
                        return false;
                    }
                    using var served = new X509Certificate2(presented);
                    servedSerial = served.SerialNumber;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(served);
                },
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            var body = await http.GetStringAsync(new Uri(url, "/health"), cancellation);
            var healthy = body.Contains("\"health\":\"true\"", StringComparison.Ordinal);
            return (healthy, $"etcd at {url.Authority}: {body.Trim()}, serving certificate serial {servedSerial}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (false, $"etcd at {url.Authority}: {e.Message}");
        }
        finally
        {
            foreach (var certificate in trusted)
            {
                certificate.Dispose();
            }
        }
    }

    private void WaitUntilListening(TimeSpan limit)
    {
        var url = new Uri(Settings()["ETCD_ADVERTISE_CLIENT_URLS"].Split(',')[0]);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            try
            {
                using var socket = new TcpClient();
                socket.Connect(url.Host, url.Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        throw new InvalidOperationException($"etcd under {root} did not listen on {url.Authority} within {limit.TotalSeconds:0} s; see {root}/var/log/etcd.log");
    }
}
