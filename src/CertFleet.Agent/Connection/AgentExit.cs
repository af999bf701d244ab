namespace CertFleet.Agent.Connection;

/// <summary>
/// How the agent ends: set by the connection when it must stop (a refused enrollment, the node's files gone) and by
/// RunAsync for what nothing expected; <see cref="Code"/> is one of <see cref="ExitCodes"/>.
/// </summary>
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
