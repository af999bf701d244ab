using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// An HTTP server on loopback that takes the coordinator's webhook POSTs at /hook and answers each as
/// <see cref="Answer"/> says (200 unless set): what a chat bridge or an on-call tool would be.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _attempts;
    private int _refused;

    private WebhookReceiver(WebApplication app, string listen)
    {
        _app = app;
        Url = $"http://{listen}/hook";
    }

    public string Url { get; }

    /// <summary>Every body taken with a 2xx answer, in order.</summary>
    public ConcurrentQueue<string> Delivered { get; } = new();

    /// <summary>Every POST, whatever it was answered.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>The POSTs answered with anything but 2xx.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Given the POST's number (1 for the first), the status to answer, after as long as it takes.</summary>
    public Func<int, CancellationToken, Task<int>> Answer { get; set; } = (_, _) => Task.FromResult(200);

    public static async Task<WebhookReceiver> StartAsync(string listen)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{listen}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, listen);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            var attempt = Interlocked.Increment(ref receiver._attempts);
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var status = await receiver.Answer(attempt, context.RequestAborted);
            if (status is >= 200 and < 300)
            {
                receiver.Delivered.Enqueue(body);
            }
            else
            {
                Interlocked.Increment(ref receiver._refused);
            }
            context.Response.StatusCode = status;
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
