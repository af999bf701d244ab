using System.Globalization;
using System.Net;

namespace CertFleet.Coordinator.Hosting;

/// <summary>A HOST:PORT the coordinator listens on, and the URL agents and operators use to reach it.</summary>
internal sealed record ListenAddress(string Host, int Port)
{
    /// <summary>The host as clients should dial it: a wildcard address means "this machine", so its name is used.</summary>
    public string PublicHost => IPAddress.TryParse(Host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
        ? Environment.MachineName
        : Host;

    public string Url => IPAddress.TryParse(PublicHost, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"https://[{PublicHost}]:{Port}"
        : $"https://{PublicHost}:{Port}";

    /// <summary>"127.0.0.1:7443", "coordinator.example:7443", "[::1]:7443"; null with <paramref name="error"/> otherwise.</summary>
    public static ListenAddress? TryParse(string? text, string optionName, out string? error)
    {
        error = null;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0)
        {
            error = $"{optionName} '{text}' is not HOST:PORT; give e.g. {optionName} 0.0.0.0:7443";
            return null;
        }
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            error = $"{optionName} '{text}': the port must be a number from 1 to 65535";
            return null;
        }
        if (host.Length == 0 || (host.Contains(':') && !IPAddress.TryParse(host, out _)))
        {
            error = $"{optionName} '{text}': '{host}' is not a host name or IP address (write IPv6 addresses as [::1]:{port})";
            return null;
        }
        return new ListenAddress(host, port);
    }

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
