using CertFleet.Pki.Authorities;

namespace CertFleet.Coordinator.Hosting;

/// <summary>
/// The PostgreSQL password: from a systemd credential (LoadCredential=NAME:/path, as the CA key passphrase) or a file
/// only its owner may read; never on the command line or in the URL.
/// </summary>
internal static class DatabasePassword
{
    public const string CredentialOption = "--database-password-credential";
    public const string FileOption = "--database-password-file";

    /// <summary>The file the password is in (null: none given); problems are added to <paramref name="problems"/>.</summary>
    public static string? File(string? credential, string? file, Func<string, string?> environment, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (credential is not null && file is not null)
        {
            problems.Add($"{CredentialOption} and {FileOption} both give the database password; give one");
            return null;
        }
        if (credential is not null)
        {
            var resolved = SystemdCredential.Resolve(CredentialOption, credential, environment, out var problem, FileOption);
            if (problem is not null)
            {
                problems.Add(problem);
            }
            return resolved;
        }
        if (file is not null && SecretFileMode.Refusal(file, FileOption) is { } refusal)
        {
            problems.Add(refusal);
            return null;
        }
        return file;
    }

    /// <summary>The password in <paramref name="path"/>, without the newline `echo` and systemd-creds leave.</summary>
    public static string Read(string path)
    {
        try
        {
            return System.IO.File.ReadAllText(path).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CoordinatorOptionsException([$"{path}: the database password cannot be read ({e.Message}); check "
                + $"{FileOption}, or the LoadCredential= of the unit for {CredentialOption}"]);
        }
    }
}
