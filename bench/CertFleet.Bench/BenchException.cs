namespace CertFleet.Bench;

/// <summary>A bench that cannot run or whose run went wrong, in words that say what to do.</summary>
internal sealed class BenchException(string message) : Exception(message);
