using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Coordinator.Api;

/// <summary>
/// Serves a plan a page at a time. A plan asks every connected agent for a fresh report, so it is made once, at the
/// first page; when it needs more than one page it is kept here (a few, for a few minutes) and the later pages are
/// cut from that same plan, so the pages always add up to one consistent plan.
/// </summary>
internal sealed class PlanPages(TimeProvider time)
{
    public const int DefaultItems = 5_000;
    public const int MaxItems = 50_000;
    private const int MaxKept = 8;
    private static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(10);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (RolloutPlan Plan, DateTimeOffset Until)> _kept = new(StringComparer.Ordinal);

    public async Task<RolloutPlan> PageAsync(RolloutRequest request, Func<RolloutRequest, Task<RolloutPlan>> plan)
    {
        var size = AnswerPages.Size(request.PageSize, DefaultItems, MaxItems);
        string? id = null;
        long offset = 0;
        RolloutPlan whole;
        if (request.PageToken.Length == 0)
        {
            var fresh = request.Clone();
            fresh.PageSize = 0;
            whole = await plan(fresh).ConfigureAwait(false);
        }
        else
        {
            (id, offset) = Parse(request.PageToken);
            whole = Kept(id) ?? throw AnswerPages.BadToken(request.PageToken);
        }
        var (page, next) = Slice(whole, offset, size);
        if (next < Count(whole))
        {
            id ??= Keep(whole);
            page.NextPageToken = string.Create(CultureInfo.InvariantCulture, $"{id}:{next}");
        }
        return page;
    }

    private static long Count(RolloutPlan plan) => plan.Certificates.Count + plan.Refused.Count + plan.Steps.Count + plan.Warnings.Count;

    /// <summary>Items <paramref name="offset"/> on of certificates, refused, steps, warnings taken as one sequence.</summary>
    private static (RolloutPlan Page, long Next) Slice(RolloutPlan whole, long offset, int size)
    {
        var page = new RolloutPlan();
        var index = offset;
        long bytes = 0;
        var taken = 0;
        while (index < Count(whole) && taken < size)
        {
            var (add, itemBytes) = Item(whole, index, page);
            bytes += itemBytes;
            if (taken > 0 && bytes > AnswerPages.MaxPageBytes)
            {
                break;
            }
            add();
            taken++;
            index++;
        }
        return (page, index);
    }

    private static (Action Add, long Bytes) Item(RolloutPlan whole, long index, RolloutPlan page)
    {
        var i = (int)index;
        if (i < whole.Certificates.Count)
        {
            var item = whole.Certificates[i];
            return (() => page.Certificates.Add(item), item.CalculateSize());
        }
        i -= whole.Certificates.Count;
        if (i < whole.Refused.Count)
        {
            var item = whole.Refused[i];
            return (() => page.Refused.Add(item), item.CalculateSize());
        }
        i -= whole.Refused.Count;
        if (i < whole.Steps.Count)
        {
            var item = whole.Steps[i];
            return (() => page.Steps.Add(item), item.CalculateSize());
        }
        i -= whole.Steps.Count;
        var warning = whole.Warnings[i];
        return (() => page.Warnings.Add(warning), Encoding.UTF8.GetByteCount(warning));
    }

    private static (string Id, long Offset) Parse(string token)
    {
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw AnswerPages.BadToken(token);
        }
        return (token[..colon], AnswerPages.Position(token[(colon + 1)..]));
    }

    private RolloutPlan? Kept(string id)
    {
        lock (_lock)
        {
            Forget(time.GetUtcNow());
            return _kept.TryGetValue(id, out var kept) ? kept.Plan : null;
        }
    }

    private string Keep(RolloutPlan plan)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        lock (_lock)
        {
            var now = time.GetUtcNow();
            Forget(now);
            while (_kept.Count >= MaxKept)
            {
                _kept.Remove(_kept.MinBy(k => k.Value.Until).Key);
            }
            _kept[id] = (plan, now + KeptFor);
        }
        return id;
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var id in _kept.Where(k => k.Value.Until <= now).Select(k => k.Key).ToList())
        {
            _kept.Remove(id);
        }
    }
}
