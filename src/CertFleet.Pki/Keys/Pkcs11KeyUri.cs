namespace CertFleet.Pki.Keys;

/// <summary>
/// An RFC 7512 URI naming a private key inside a PKCS#11 token: `pkcs11:token=LABEL;object=LABEL` (or `id=%01`), with
/// the module in the query when it is not the system's p11-kit proxy (`?module-path=/usr/lib/.../libsofthsm2.so`).
/// The PIN never goes into it: the URI sits in coordinator.conf and on command lines, so `pin-value` and `pin-source`
/// are refused and the PIN comes from a credential file.
/// </summary>
public sealed record Pkcs11KeyUri
{
    private const string Scheme = "pkcs11:";

    private Pkcs11KeyUri(string text, IReadOnlyList<KeyValuePair<string, string>> path, string? modulePath)
    {
        Text = text;
        PathAttributes = path;
        ModulePath = modulePath;
    }

    /// <summary>The URI as the operator wrote it (it holds no PIN, so it may be shown and logged).</summary>
    public string Text { get; }

    /// <summary>The path attributes in their order, values still percent-encoded.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> PathAttributes { get; }

    /// <summary>The PKCS#11 module the query names, or null for the OpenSSL engine's default (p11-kit's proxy).</summary>
    public string? ModulePath { get; }

    /// <summary>The token's label, decoded.</summary>
    public string Token => Decoded("token")!;

    /// <summary>The key's label (object=), decoded, or null when only id= names it.</summary>
    public string? Object => Decoded("object");

    /// <summary>The URI the engine gets: the path attributes only, and type=private so no certificate is taken for the key.</summary>
    internal string EngineUri => Scheme + string.Join(';', PathAttributes.Where(a => a.Key != "type").Select(a => a.Key + "=" + a.Value)) + ";type=private";

    public static bool IsUri(string value) => value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    public static Pkcs11KeyUri Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!IsUri(text))
        {
            throw new PkiException($"{text}: not a pkcs11: URI");
        }
        var rest = text[Scheme.Length..];
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        var path = Attributes(question < 0 ? rest : rest[..question], ';');
        var query = question < 0 ? [] : Attributes(rest[(question + 1)..], '&');
        if (path.Concat(query).Any(a => a.Key is "pin-value" or "pin-source"))
        {
            // never echo the URI: it holds the PIN
            throw new PkiException(
                "a pkcs11: --ca-key holds its PIN (pin-value or pin-source): take the PIN out of the URI, which sits in coordinator.conf " +
                "and on command lines, and give it with --ca-key-pin-credential NAME (systemd LoadCredential=) or --ca-key-pin-file F");
        }
        if (path.FirstOrDefault(a => a.Key == "type").Value is { } type && type != "private")
        {
            throw new PkiException($"{text}: type={type} names no private key; leave type= out or write type=private");
        }
        if (!path.Any(a => a.Key == "token"))
        {
            throw new PkiException($"{text}: says no token=; name the token by its label, e.g. pkcs11:token=cluster-ca;object=ca " +
                "(`pkcs11-tool --list-token-slots` lists them)");
        }
        if (!path.Any(a => a.Key is "object" or "id"))
        {
            throw new PkiException($"{text}: says no object= or id=; name the CA key by its label, e.g. pkcs11:token=cluster-ca;object=ca " +
                "(`pkcs11-tool --login --list-objects --type privkey` lists them)");
        }
        var module = query.FirstOrDefault(a => a.Key == "module-path").Value;
        return new Pkcs11KeyUri(text, path, module is null ? null : Uri.UnescapeDataString(module));
    }

    public override string ToString() => Text;

    private string? Decoded(string name) =>
        PathAttributes.FirstOrDefault(a => a.Key == name).Value is { } value ? Uri.UnescapeDataString(value) : null;

    private static List<KeyValuePair<string, string>> Attributes(string text, char separator) =>
        text.Split(separator, StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Select(pair => new KeyValuePair<string, string>(pair[0].Trim().ToLowerInvariant(), pair.Length == 2 ? pair[1].Trim() : ""))
            .ToList();
}
