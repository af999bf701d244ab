using System.Net.Http.Headers;
using System.Text.Json;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// Keeps Alertmanager's view (`notify-alertmanager`, its v2 API) in step with the fleet, as Prometheus does: every
/// push sends each alert that holds with an end a few intervals ahead (so it stays firing while pushes go on, and ends
/// by itself if the coordinator stops), and each alert that held before and does not now with its end set to now, so
/// it resolves. A failed push is logged and made again, whole, at the next interval; resolutions not yet delivered are
/// kept until one succeeds.
/// </summary>
internal sealed partial class AlertmanagerSender(Uri baseUrl, HttpClient http, TimeSpan interval, ILogger logger)
{
    private readonly Uri _alerts = new(baseUrl, "api/v2/alerts");
    private Dictionary<string, FleetAlert> _firing = new(StringComparer.Ordinal);
    private bool _failing;

    public async Task PushAsync(IReadOnlyList<FleetAlert> alerts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        var current = new Dictionary<string, FleetAlert>(StringComparer.Ordinal);
        foreach (var alert in alerts)
        {
            current.TryAdd(alert.Key, alert);
        }
        var keepAlive = now + (interval * 4);
        var payload = current.Values
            .Select(a => Wire(a, a.EndsAt is { } end && end < keepAlive ? end : keepAlive))
            .Concat(_firing.Where(f => !current.ContainsKey(f.Key)).Select(f => Wire(f.Value, now)))
            .ToList();
        if (payload.Count == 0)
        {
            return;
        }
        var failure = await PostAsync(JsonSerializer.Serialize(payload, NotificationJson.Default.ListAlertmanagerAlert), cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            if (!_failing)
            {
                Log.Failed(logger, _alerts.ToString(), failure);
            }
            _failing = true;
            // what was firing stays to be resolved; what fires now is sent again next time anyway
            foreach (var alert in current)
            {
                _firing.TryAdd(alert.Key, alert.Value);
            }
            return;
        }
        if (_failing)
        {
            Log.Recovered(logger, _alerts.ToString());
        }
        _failing = false;
        _firing = current;
    }

    private static AlertmanagerAlert Wire(FleetAlert alert, DateTimeOffset endsAt) =>
        new(alert.Labels, alert.Annotations, alert.StartsAt, endsAt, null);

    private async Task<string?> PostAsync(string body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new StringContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync(_alerts, content, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null
                : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}";
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
        [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Alertmanager {Url}: alerts not delivered ({Failure}); sent again at every interval until it answers")]
        public static partial void Failed(ILogger logger, string url, string failure);

        [LoggerMessage(EventId = 3112, Level = LogLevel.Information, Message = "Alertmanager {Url} takes alerts again")]
        public static partial void Recovered(ILogger logger, string url);
    }
}
