namespace CertFleet.Coordinator.Tests.Support;

/// <summary>Polls a condition with a time limit: for things that happen on another connection.</summary>
public static class Eventually
{
    public static async Task True(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
            await Task.Delay(25);
        }
    }

    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        True(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Polls until <paramref name="value"/> gives something, and returns it.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> value, string what, TimeSpan? timeout = null) where T : class
    {
        T? found = null;
        await True(async () => (found = await value()) is not null, what, timeout);
        return found!;
    }
}
