namespace CertFleet.Pki.Inventory;

/// <summary>A file read during a scan, kept so that an edit can be checked against what was read.</summary>
public sealed record ScannedFile(string Path, string HostPath, string Text);
