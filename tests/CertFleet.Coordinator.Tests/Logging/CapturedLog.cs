using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Tests.Logging;

/// <summary>One line a host logged, with its structured properties as a journald reader would get them.</summary>
internal sealed record LogLine(LogLevel Level, string Category, int EventId, string Message, IReadOnlyDictionary<string, object?> Properties)
{
    public string Property(string name) => Properties.TryGetValue(name, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "" : "";
}

/// <summary>Every line at or above the host's minimum level, in order.</summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal)
                : new Dictionary<string, object?>(StringComparer.Ordinal);
            lines.Enqueue(new LogLine(logLevel, category, eventId.Id, formatter(state, exception), properties));
        }
    }
}
