namespace CertFleet.Pki.Kubeconfigs;

/// <summary>
/// One certificate field of a kubeconfig: <paramref name="Text"/> is the scalar's value (a path or base64);
/// <paramref name="Start"/> and <paramref name="End"/> are the char offsets of the scalar token in the file text,
/// quotes included, so a rewrite can replace exactly that span.
/// </summary>
public sealed record KubeconfigValue(string Key, string Text, int Start, int End);
