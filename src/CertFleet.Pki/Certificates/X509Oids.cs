namespace CertFleet.Pki.Certificates;

/// <summary>Object identifiers of the X.509 extensions and attributes the engine reads or writes.</summary>
internal static class X509Oids
{
    public const string SubjectKeyIdentifier = "2.5.29.14";
    public const string KeyUsage = "2.5.29.15";
    public const string SubjectAlternativeName = "2.5.29.17";
    public const string BasicConstraints = "2.5.29.19";
    public const string AuthorityKeyIdentifier = "2.5.29.35";
    public const string ExtendedKeyUsage = "2.5.29.37";
    public const string ExtensionRequest = "1.2.840.113549.1.9.14";

    /// <summary>The extensions a renewal must request unchanged: they are what the identity may do.</summary>
    public static readonly IReadOnlyList<string> Guarded = [SubjectAlternativeName, KeyUsage, ExtendedKeyUsage, BasicConstraints];

    public static string NameOf(string oid) => oid switch
    {
        SubjectAlternativeName => "subjectAltName",
        KeyUsage => "keyUsage",
        ExtendedKeyUsage => "extendedKeyUsage",
        BasicConstraints => "basicConstraints",
        SubjectKeyIdentifier => "subjectKeyIdentifier",
        AuthorityKeyIdentifier => "authorityKeyIdentifier",
        _ => oid,
    };
}
