using Grpc.Core;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// Makes each admin call on a coordinator group: the coordinator that answered last (or was named the active one)
/// first, then the others in admin.conf's order. An unreachable coordinator, one whose server is not the coordinator,
/// and a standby's refusal (Unavailable) move on to the next; a refusal whose certfleet-active-coordinator trailer
/// names a coordinator of the list moves to that one first (never to one outside the list). One pass per call: when
/// every coordinator failed, a <see cref="CoordinatorGroupUnavailableException"/> names each and why. No coordinator
/// is asked twice in a call; a write that reached the active one before its connection broke may be asked of a
/// standby next, which refuses it until it takes over 10-20 s later, so moving on does not make one write twice.
/// With a single coordinator, calls go straight to its channel, as before groups.
/// </summary>
internal sealed class CoordinatorGroupInvoker(IReadOnlyList<CoordinatorEndpoint> endpoints) : CallInvoker
{
    /// <summary>The response trailer in which a standby names the active coordinator's URL (absent when it does not know it).</summary>
    public const string ActiveTrailer = "certfleet-active-coordinator";

    /// <summary>The most a coordinator's refusal is quoted with in an error: it is the coordinator's text, not ours.</summary>
    private const int MaxQuotedChars = 300;

    private volatile CoordinatorEndpoint _preferred = endpoints[0];

    private IReadOnlyList<CoordinatorEndpoint> Endpoints => endpoints;

    private bool IsGroup => endpoints.Count > 1;

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        AsyncUnaryCall(method, host, options, request).ResponseAsync.GetAwaiter().GetResult();

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        if (!IsGroup)
        {
            return endpoints[0].Invoker.AsyncUnaryCall(method, host, options, request);
        }
        var answered = new TaskCompletionSource<AsyncUnaryCall<TResponse>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var response = UnaryAsync(method, host, options, request, answered);
        return new AsyncUnaryCall<TResponse>(response,
            HeadersAsync(answered.Task),
            () => answered.Task.IsCompletedSuccessfully ? answered.Task.Result.GetStatus() : throw new InvalidOperationException("the call has not ended"),
            () => answered.Task.IsCompletedSuccessfully ? answered.Task.Result.GetTrailers() : throw new InvalidOperationException("the call has not ended"),
            () =>
            {
                if (answered.Task.IsCompletedSuccessfully)
                {
                    answered.Task.Result.Dispose();
                }
            });
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        if (!IsGroup)
        {
            return endpoints[0].Invoker.AsyncServerStreamingCall(method, host, options, request);
        }
        var stream = new FirstAnswerStream<TResponse>(this, endpoint => endpoint.Invoker.AsyncServerStreamingCall(method, host, options, request), options.CancellationToken);
        return new AsyncServerStreamingCall<TResponse>(stream, stream.HeadersAsync(), stream.GetStatus, stream.GetTrailers, stream.Dispose);
    }

    // the admin API has no client or bidirectional streams; were one added, it goes to the preferred coordinator alone
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        _preferred.Invoker.AsyncClientStreamingCall(method, host, options);

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        _preferred.Invoker.AsyncDuplexStreamingCall(method, host, options);

    private async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request,
        TaskCompletionSource<AsyncUnaryCall<TResponse>> answered)
        where TRequest : class
        where TResponse : class
    {
        var pass = new Pass(this);
        while (pass.Next() is { } endpoint)
        {
            var call = endpoint.Invoker.AsyncUnaryCall(method, host, options, request);
            try
            {
                var response = await call.ResponseAsync.ConfigureAwait(false);
                pass.Answered(endpoint);
                answered.SetResult(call);
                return response;
            }
            catch (RpcException e) when (pass.MovesOn(endpoint, e, options.CancellationToken))
            {
                call.Dispose();
            }
            catch (Exception e)
            {
                answered.TrySetException(e);
                throw;
            }
        }
        var failed = pass.Failed();
        answered.TrySetException(failed);
        throw failed;
    }

    private static async Task<Metadata> HeadersAsync<TResponse>(Task<AsyncUnaryCall<TResponse>> answered) =>
        await (await answered.ConfigureAwait(false)).ResponseHeadersAsync.ConfigureAwait(false);

    /// <summary>One call's way through the group: who is tried next, and what each tried one said.</summary>
    private sealed class Pass(CoordinatorGroupInvoker group)
    {
        private readonly List<(Uri Server, string Why)> _attempts = [];
        private readonly HashSet<CoordinatorEndpoint> _tried = [];
        private CoordinatorEndpoint? _namedActive;

        public CoordinatorEndpoint? Next()
        {
            var next = _namedActive is { } active && !_tried.Contains(active)
                ? active
                : !_tried.Contains(group._preferred) ? group._preferred : group.Endpoints.FirstOrDefault(e => !_tried.Contains(e));
            if (next is not null)
            {
                _tried.Add(next);
            }
            return next;
        }

        public void Answered(CoordinatorEndpoint endpoint) => group._preferred = endpoint;

        /// <summary>True when the failure is one to move on from (and records why); false: it is the call's answer.</summary>
        public bool MovesOn(CoordinatorEndpoint endpoint, RpcException e, CancellationToken cancellation)
        {
            if (cancellation.IsCancellationRequested || (!ConnectionLoss.Is(e) && endpoint.Rejection is null))
            {
                return false;
            }
            _attempts.Add((endpoint.Server, Why(endpoint, e)));
            var named = e.Trailers.GetValue(ActiveTrailer);
            if (named is not null && Uri.TryCreate(named.Trim(), UriKind.Absolute, out var url)
                && group.Endpoints.FirstOrDefault(c => CoordinatorUrls.Same(c.Server, url)) is { } active)
            {
                _namedActive = active;
                group._preferred = active; // the next call, a write most likely, goes there first
            }
            return true;
        }

        public CoordinatorGroupUnavailableException Failed() => new(_attempts);

        private static string Why(CoordinatorEndpoint endpoint, RpcException e)
        {
            if (endpoint.Rejection is { } rejection)
            {
                return $"{rejection}; nothing was sent to it";
            }
            // a transport failure carries the exception that broke the call; a coordinator's own refusal does not
            return e.Status.DebugException is null
                ? $"refused: {Quoted(e.Status.Detail)}"
                : $"unreachable ({Quoted(ConnectionLoss.Why(e))})";
        }

        private static string Quoted(string text) => text.Length <= MaxQuotedChars ? text : text[..MaxQuotedChars] + "…";
    }

    /// <summary>
    /// A server stream taken from the first coordinator that answers: until its first message (or its end), a failure
    /// to move on from tries the next; after that the stream is that coordinator's, and its failures are the call's.
    /// </summary>
    private sealed class FirstAnswerStream<TResponse>(CoordinatorGroupInvoker group, Func<CoordinatorEndpoint, AsyncServerStreamingCall<TResponse>> open,
        CancellationToken callCancellation) : IAsyncStreamReader<TResponse>
    {
        private readonly TaskCompletionSource<AsyncServerStreamingCall<TResponse>> _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private AsyncServerStreamingCall<TResponse>? _call;

        public TResponse Current => _call is null ? throw new InvalidOperationException("MoveNext has not been called") : _call.ResponseStream.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (_call is not null)
            {
                return await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
            }
            var pass = new Pass(group);
            while (pass.Next() is { } endpoint)
            {
                var call = open(endpoint);
                try
                {
                    var any = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
                    pass.Answered(endpoint);
                    _call = call;
                    _answered.SetResult(call);
                    return any;
                }
                catch (RpcException e) when (!cancellationToken.IsCancellationRequested && pass.MovesOn(endpoint, e, callCancellation))
                {
                    call.Dispose();
                }
                catch (Exception e)
                {
                    call.Dispose();
                    _answered.TrySetException(e);
                    throw;
                }
            }
            var failed = pass.Failed();
            _answered.TrySetException(failed);
            throw failed;
        }

        public async Task<Metadata> HeadersAsync() =>
            await (await _answered.Task.ConfigureAwait(false)).ResponseHeadersAsync.ConfigureAwait(false);

        public Status GetStatus() => _call?.GetStatus() ?? throw new InvalidOperationException("the call has not ended");

        public Metadata GetTrailers() => _call?.GetTrailers() ?? throw new InvalidOperationException("the call has not ended");

        public void Dispose() => _call?.Dispose();
    }
}
