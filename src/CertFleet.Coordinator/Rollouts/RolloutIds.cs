using System.Globalization;
using System.Security.Cryptography;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>Short ids an operator can read and type: "r-20261128-170512-ab12" (UTC start time, 16 random bits).</summary>
internal static class RolloutIds
{
    public static string New(DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture, $"r-{now.UtcDateTime:yyyyMMdd-HHmmss}-{RandomNumberGenerator.GetHexString(4, lowercase: true)}");
}
