using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>Sends a request down a connected agent's stream and waits for the answer with the same correlation id.</summary>
public interface IAgentGateway
{
    bool IsConnected(string node);

    /// <summary>
    /// Sets <paramref name="request"/>'s correlation id, sends it and returns the agent's answer.
    /// Throws <see cref="AgentUnavailableException"/> when the node is not connected, its stream ends before it
    /// answers, or no answer comes within <paramref name="timeout"/>.
    /// </summary>
    Task<AgentMessage> SendAsync(string node, CoordinatorMessage request, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>The agent could not be asked, or did not answer: a rollout step fails with this message.</summary>
public sealed class AgentUnavailableException(string message, TimeSpan? timedOutAfter = null) : Exception(message)
{
    /// <summary>Set when the agent stayed connected but silent this long; null when it was not connected or hung up.</summary>
    public TimeSpan? TimedOutAfter { get; } = timedOutAfter;
}
