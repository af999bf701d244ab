namespace CertFleet.Testing;

/// <summary>The openssl CLI as the oracle: what it says about a certificate is what a user would see.</summary>
public static class Openssl
{
    public static ProcessResult Run(params string[] arguments) => ProcessRunner.Run("openssl", arguments);

    public static string Checked(params string[] arguments) => ProcessRunner.RunChecked("openssl", arguments).StandardOutput;

    /// <summary>`openssl verify -CAfile ca cert`; returns the result so a test can show openssl's words.</summary>
    public static ProcessResult Verify(string caFile, string certificateFile, bool ignoreExpiry = false)
    {
        var arguments = new List<string> { "verify", "-CAfile", caFile };
        if (ignoreExpiry)
        {
            arguments.Add("-no_check_time");
        }
        arguments.Add(certificateFile);
        return ProcessRunner.Run("openssl", arguments);
    }

    public static string Subject(string certificateFile) =>
        Checked("x509", "-in", certificateFile, "-noout", "-subject", "-nameopt", "RFC2253").Trim();

    public static string Serial(string certificateFile) =>
        Checked("x509", "-in", certificateFile, "-noout", "-serial").Trim()["serial=".Length..];

    public static string PublicKey(string certificateFile) =>
        Checked("x509", "-in", certificateFile, "-noout", "-pubkey");

    /// <summary>`openssl x509 -noout -enddate`: "notAfter=Nov  7 23:35:50 2126 GMT".</summary>
    public static string EndDate(string certificateFile) =>
        Checked("x509", "-in", certificateFile, "-noout", "-enddate").Trim();

    /// <summary><paramref name="moment"/> as <see cref="EndDate"/> prints it (whole seconds, day padded to two).</summary>
    public static string EndDateOf(DateTimeOffset moment)
    {
        var utc = moment.UtcDateTime;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"notAfter={utc:MMM} {utc.Day,2} {utc:HH:mm:ss yyyy} GMT");
    }

    public static string Text(string certificateFile) =>
        Checked("x509", "-in", certificateFile, "-noout", "-text");

    public static string Extension(string certificateFile, string name) =>
        Checked("x509", "-in", certificateFile, "-noout", "-ext", name);
}
