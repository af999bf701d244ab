namespace CertFleet.Agent.Connection;

/// <summary>How the agent ends: set by the connection when it must stop (a refused enrollment), read by RunAsync.</summary>
public sealed class AgentExit
{
    public int Code { get; private set; }

    public string? Reason { get; private set; }

    internal void Fail(int code, string reason)
    {
        Code = code;
        Reason = reason;
    }
}
