namespace CertFleet.Pki.Authorities;

/// <summary>A systemd credential (LoadCredential=NAME:/path): the file $CREDENTIALS_DIRECTORY/NAME the service manager hands over.</summary>
public static class SystemdCredential
{
    /// <summary>The credential's file, or null with <paramref name="problem"/> saying why (a path given, or not run by systemd).</summary>
    /// <param name="fileOption">the option that gives the same from a file, named in the problem; null: the CA key's passphrase or PIN file</param>
    public static string? Resolve(string option, string name, Func<string, string?> environment, out string? problem, string? fileOption = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(environment);
        problem = null;
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            problem = $"{option} '{name}': give the credential's name (as in LoadCredential=NAME:...), not a path";
            return null;
        }
        var folder = environment("CREDENTIALS_DIRECTORY");
        if (string.IsNullOrEmpty(folder))
        {
            var (secret, otherOption) = fileOption is not null
                ? ("secret", fileOption)
                : option == ClusterAuthorityArguments.PinCredential
                    ? ("pin", ClusterAuthorityArguments.PinFile)
                    : ("passphrase", ClusterAuthorityArguments.PassphraseFile);
            problem = $"{option} {name}: $CREDENTIALS_DIRECTORY is not set; run under systemd with "
                + $"LoadCredential={name}:/path/to/{secret} (or LoadCredentialEncrypted=), or use {otherOption}";
            return null;
        }
        return Path.Combine(folder, name);
    }
}
