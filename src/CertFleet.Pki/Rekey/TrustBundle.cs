using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Pki.Rekey;

/// <summary>
/// The text of a trust anchor during a re-key: "old + new" for the trust phase, "old removed" for retire, as a PEM
/// file or as a kubeconfig cluster's certificate-authority-data. Pure: text in, text out; every other byte of the
/// file (other CAs, comments, the kubeconfig's other fields) is kept. Both are idempotent, so a resumed phase writes
/// the same text again.
/// </summary>
public static class TrustBundle
{
    /// <summary>
    /// <paramref name="text"/> with <paramref name="newCa"/> added right after the last certificate of the old CA.
    /// Old first, new after: Go's CertPool (apiserver, etcd, kubelet, kubectl) reads every certificate and does not
    /// care, but a reader that takes only the first one (`openssl x509 -in`, `openssl ca -cert` by hand, kubeadm's
    /// TryLoadCertFromDisk) keeps seeing exactly the CA it saw before the trust phase, the one every certificate in
    /// the cluster is still signed by and the one whose key may sit beside the file. Unchanged when the new CA is
    /// already there; refused when the file does not hold the old CA (it trusts something else, and adding a CA
    /// there would widen that trust).
    /// </summary>
    public static string Trust(string text, CertificateInfo oldCa, CertificateInfo newCa, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(oldCa);
        ArgumentNullException.ThrowIfNull(newCa);
        var certificates = Certificates(text, sourceName);
        if (certificates.Any(c => c.Certificate.Der.AsSpan().SequenceEqual(newCa.Der)))
        {
            return text;
        }
        var lastOld = certificates.LastOrDefault(c => IsSameAuthority(c.Certificate, oldCa))
            ?? throw new PkiException($"{sourceName}: does not hold the CA '{oldCa.Subject}' being re-keyed, so it is not one of its " +
                "trust anchors; nothing was added");
        var newPem = Pem.Write("CERTIFICATE", newCa.Der).TrimEnd('\n');
        var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        return text.Insert(lastOld.Block.End, newline + newPem.Replace("\n", newline, StringComparison.Ordinal));
    }

    /// <summary>
    /// <paramref name="text"/> without any certificate of the old CA: every copy with its name and key goes (a
    /// renewed copy of the old CA would still accept what the old key signed). Unchanged when none is there;
    /// refused when nothing else would remain, since a trust file without a certificate fails its service at start.
    /// </summary>
    public static string Retire(string text, CertificateInfo oldCa, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(oldCa);
        var certificates = Certificates(text, sourceName);
        var old = certificates.Where(c => IsSameAuthority(c.Certificate, oldCa)).ToList();
        if (old.Count == 0)
        {
            return text;
        }
        if (old.Count == certificates.Count)
        {
            throw new PkiException($"{sourceName}: holds only the old CA '{oldCa.Subject}'; retiring it would leave no certificate, " +
                "so nothing was removed (the trust phase adds the new CA first)");
        }
        var builder = new StringBuilder(text);
        foreach (var certificate in old.OrderByDescending(c => c.Block.Start))
        {
            builder.Remove(certificate.Block.Start, LineEnd(text, certificate.Block.End) - certificate.Block.Start);
        }
        return builder.ToString();
    }

    /// <summary><see cref="Trust"/> applied to certificate-authority-data of cluster <paramref name="cluster"/>; the rest of the kubeconfig kept.</summary>
    public static string TrustKubeconfig(string kubeconfigText, string cluster, CertificateInfo oldCa, CertificateInfo newCa, string sourceName) =>
        RewriteCertificateAuthorityData(kubeconfigText, cluster, sourceName, (pem, name) => Trust(pem, oldCa, newCa, name));

    /// <summary><see cref="Retire"/> applied to certificate-authority-data of cluster <paramref name="cluster"/>.</summary>
    public static string RetireKubeconfig(string kubeconfigText, string cluster, CertificateInfo oldCa, string sourceName) =>
        RewriteCertificateAuthorityData(kubeconfigText, cluster, sourceName, (pem, name) => Retire(pem, oldCa, name));

    /// <summary>Same name and same key: every certificate of that CA, renewed copies included.</summary>
    public static bool IsSameAuthority(CertificateInfo certificate, CertificateInfo authority)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authority);
        return certificate.SubjectDer.AsSpan().SequenceEqual(authority.SubjectDer)
            && SubjectPublicKey.AreSame(certificate.SubjectPublicKeyInfoDer, authority.SubjectPublicKeyInfoDer);
    }

    private static string RewriteCertificateAuthorityData(string kubeconfigText, string cluster, string sourceName, Func<string, string, string> change)
    {
        ArgumentNullException.ThrowIfNull(kubeconfigText);
        var kubeconfig = Kubeconfig.Parse(kubeconfigText, sourceName);
        var entry = kubeconfig.Clusters.FirstOrDefault(c => c.Name == cluster)
            ?? throw new PkiException($"{sourceName}: has no cluster '{cluster}'; read the kubeconfig again and retry");
        if (entry.CertificateAuthorityData is not { Text.Length: > 0 } data)
        {
            throw new PkiException($"{sourceName}: cluster '{cluster}' has no certificate-authority-data" +
                (entry.CertificateAuthority is { } file ? $"; it names the file {file.Text}, which is the trust anchor to change" : ""));
        }
        var name = $"{sourceName} (certificate-authority-data of {cluster})";
        var pem = Encoding.UTF8.GetString(Kubeconfig.DecodeData(data, sourceName));
        var changed = change(pem, name);
        return changed == pem
            ? kubeconfigText
            : kubeconfig.Rewrite([new KeyValuePair<KubeconfigValue, string>(data, Kubeconfig.EncodeData(Encoding.UTF8.GetBytes(changed)))]);
    }

    private sealed record Found(PemBlock Block, CertificateInfo Certificate);

    private static List<Found> Certificates(string text, string sourceName) =>
        Pem.Read(text, sourceName)
            .Where(b => b.Label == "CERTIFICATE")
            .Select(b => new Found(b, CertificateInfo.Parse(b.Der, sourceName)))
            .ToList();

    /// <summary>The offset after the line break that ends a block (none at the end of the text).</summary>
    private static int LineEnd(string text, int end) =>
        text.AsSpan(end).StartsWith("\r\n") ? end + 2 : text.AsSpan(end).StartsWith("\n") ? end + 1 : end;
}
