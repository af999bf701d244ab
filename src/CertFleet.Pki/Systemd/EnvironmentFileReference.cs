namespace CertFleet.Pki.Systemd;

/// <summary>An <c>EnvironmentFile=</c> of a unit; <c>EnvironmentFile=-/x</c> is optional (missing is no error).</summary>
public sealed record EnvironmentFileReference(string Path, bool Optional);
