using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// POSTs each <see cref="FleetEvent"/> as JSON to `notify-webhook`, one at a time and in order, from a queue of its
/// own: a receiver that is down or slow delays only the events behind it, never the coordinator. A failed POST (no
/// answer, or not 2xx) is tried again after 1, 2, 4, 8 and 16 times <see cref="CoordinatorOptions"/>' retry delay, then
/// given up with an error in the log; a full queue (a receiver down for long) drops the newest events, also logged.
/// </summary>
internal sealed partial class WebhookSender(Uri url, HttpClient http, TimeSpan retryDelay, TimeProvider time, ILogger logger)
{
    public const int Capacity = 1_000;
    public const int Attempts = 6;

    private readonly Channel<FleetEvent> _queue = Channel.CreateBounded<FleetEvent>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public void Enqueue(FleetEvent notification)
    {
        if (!_queue.Writer.TryWrite(notification))
        {
            Log.Dropped(logger, notification.Kind, notification.Summary, Capacity);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var notification in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await DeliverAsync(notification, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync(FleetEvent notification, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(notification, NotificationJson.Default.FleetEvent);
        for (var attempt = 1; ; attempt++)
        {
            var failure = await PostAsync(body, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                return;
            }
            if (attempt == Attempts)
            {
                Log.GaveUp(logger, notification.Kind, url.GetLeftPart(UriPartial.Path), Attempts, failure, notification.Summary);
                return;
            }
            var delay = retryDelay * Math.Pow(2, attempt - 1);
            Log.Retrying(logger, notification.Kind, url.GetLeftPart(UriPartial.Path), failure, delay);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>null when the receiver took it; else why not.</summary>
    private async Task<string?> PostAsync(string body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new StringContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (HttpRequestException e)
        {
            return e.Message;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {http.Timeout.TotalSeconds:0} s";
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Webhook {Url}: {Kind} not delivered ({Failure}); trying again in {Delay}")]
        public static partial void Retrying(ILogger logger, string kind, string url, string failure, TimeSpan delay);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "Webhook {Url}: {Kind} given up after {Attempts} attempts ({Failure}): {Summary}")]
        public static partial void GaveUp(ILogger logger, string kind, string url, int attempts, string failure, string summary);

        [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Webhook queue full ({Capacity} events waiting): {Kind} dropped: {Summary}")]
        public static partial void Dropped(ILogger logger, string kind, string summary, int capacity);
    }
}
