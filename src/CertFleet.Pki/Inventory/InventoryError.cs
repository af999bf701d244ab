namespace CertFleet.Pki.Inventory;

/// <summary>A file (or unit) that could not be read; it is reported and left alone.</summary>
public sealed record InventoryError(string Path, string Message);
