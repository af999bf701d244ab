namespace CertFleet.Pki.Systemd;

/// <summary>One <c>Key=Value</c> of a unit file after joining continuations; Source and Line are for messages.</summary>
internal sealed record UnitSetting(string Section, string Key, string Value, string Source, int Line)
{
    public string Where => $"{Source}: line {Line}";
}
