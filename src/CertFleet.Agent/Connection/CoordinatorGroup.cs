using CertFleet.Agent.Options;
using Grpc.Core;

namespace CertFleet.Agent.Connection;

/// <summary>
/// Which coordinator of the group to dial next. They are tried in the order given; an unreachable one or a standby's
/// refusal moves on to the next, and a refusal that names the active coordinator (<see cref="ActiveTrailer"/>) moves
/// to that one first when it is in the list: a coordinator's word never sends the agent anywhere the operator did not
/// list. A pass ends when every one has failed since the last success; the caller then backs off and starts over.
/// One coordinator alone: every failure ends a pass, which is the agent's behaviour from before groups.
/// </summary>
internal sealed class CoordinatorGroup
{
    /// <summary>The response trailer in which a standby names the active coordinator's URL (absent when it does not know it).</summary>
    public const string ActiveTrailer = "certfleet-active-coordinator";

    private readonly IReadOnlyList<Uri> _members;
    private readonly HashSet<int> _failed = [];
    private int _current;

    public CoordinatorGroup(IReadOnlyList<Uri> members)
    {
        ArgumentOutOfRangeException.ThrowIfZero(members.Count);
        _members = members;
    }

    public Uri Current => _members[_current];

    public bool IsGroup => _members.Count > 1;

    /// <summary>The current one answered: the next failure starts a new pass from it.</summary>
    public void Succeeded() => _failed.Clear();

    /// <summary>
    /// The current one failed (<paramref name="error"/> may name the active coordinator). Moves to the next to try;
    /// true when the pass is over: every one failed, the caller waits, and the first is tried again.
    /// </summary>
    public bool Failed(Exception? error)
    {
        _failed.Add(_current);
        var active = ActiveNamedBy(error);
        if (active is not null && !_failed.Contains(active.Value))
        {
            _current = active.Value;
            return false;
        }
        for (var step = 1; step < _members.Count; step++)
        {
            var next = (_current + step) % _members.Count;
            if (!_failed.Contains(next))
            {
                _current = next;
                return false;
            }
        }
        _failed.Clear();
        _current = 0;
        return true;
    }

    /// <summary>The index of the member the refusal's trailer names, or null (no trailer, or a URL not in the list).</summary>
    private int? ActiveNamedBy(Exception? error)
    {
        var value = (error as RpcException)?.Trailers.GetValue(ActiveTrailer);
        if (value is null || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var named))
        {
            return null;
        }
        for (var i = 0; i < _members.Count; i++)
        {
            if (CoordinatorUrls.SameCoordinator(_members[i], named))
            {
                return i;
            }
        }
        return null;
    }
}
