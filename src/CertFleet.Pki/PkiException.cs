namespace CertFleet.Pki;

/// <summary>
/// A problem with the operator's input or files (unreadable PEM, a key that does not match, garbage in a
/// kubeconfig). The message is for the operator: it names the file and says what to do; no stack trace.
/// </summary>
public sealed class PkiException(string message, Exception? innerException = null) : Exception(message, innerException);
