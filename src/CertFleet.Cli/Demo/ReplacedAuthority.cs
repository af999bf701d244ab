using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Cli.Demo;

/// <summary>
/// One cluster CA a re-key replaced, as the coordinator keeps it: &lt;state-dir&gt;/authorities/rekey/&lt;rollout&gt;/&lt;n&gt;/
/// old.crt and new.crt (docs/CA-REKEY.md). Read from there rather than from a node, so the check of the nodes'
/// files has something to compare them with that no agent wrote.
/// </summary>
internal sealed record ReplacedAuthority(CertificateInfo Old, CertificateInfo New)
{
    /// <summary>The CA's common name ("kubernetes", "front-proxy-ca"), as `--rekey-ca CA` names it.</summary>
    public string Name => New.Subject.StartsWith("CN=", StringComparison.Ordinal) ? New.Subject[3..].Split(',')[0] : New.Subject;

    /// <summary>Every CA the demo's one re-key replaced, in the order the coordinator numbered them.</summary>
    public static IReadOnlyList<ReplacedAuthority> ReadAll(string stateDirectory)
    {
        var folder = Path.Combine(stateDirectory, "authorities", "rekey");
        var replaced = (Directory.Exists(folder) ? Directory.GetDirectories(folder) : [])
            .SelectMany(Directory.GetDirectories)
            .OrderBy(d => int.TryParse(Path.GetFileName(d), out var n) ? n : int.MaxValue)
            .Select(d => new ReplacedAuthority(Read(Path.Combine(d, "old.crt")), Read(Path.Combine(d, "new.crt"))))
            .ToList();
        return replaced.Count > 0
            ? replaced
            : throw new DemoFailedException($"the re-key completed but {folder} holds no old.crt/new.crt pair; the coordinator keeps its new CAs there");
    }

    private static CertificateInfo Read(string file)
    {
        try
        {
            var block = Pem.Read(File.ReadAllText(file), file).FirstOrDefault(b => b.Label == "CERTIFICATE")
                ?? throw new DemoFailedException($"{file} holds no certificate");
            return CertificateInfo.Parse(block.Der, file);
        }
        catch (Exception e) when (e is IOException or PkiException)
        {
            throw new DemoFailedException($"cannot read {file}: {e.Message}");
        }
    }
}
