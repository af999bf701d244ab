using System.Diagnostics;
using System.Globalization;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// A client of etcd that keeps writing while a rollout runs, as an apiserver restarted at any moment would: a put
/// every <see cref="Every"/> (or as soon as the last one ended: an etcdctl takes 150-500 ms while a rollout keeps both
/// cores busy, so about 2.5 writes a second), with master-1's etcd client files read from disk before each attempt,
/// tried against the three members in turn until one accepts it, as a client given all three endpoints would. A write
/// fails when each member was tried and none accepted it within <see cref="WriteWithin"/>. Every attempt is recorded.
/// Bounded: it stops at <see cref="StopAsync"/> (or dispose), and by itself after <see cref="Limit"/> or
/// <see cref="MaxAttempts"/> attempts.
/// </summary>
internal sealed class EtcdWriteProbe : IAsyncDisposable
{
    public static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A member being restarted is down for about a second, and an attempt against it costs <see cref="AttemptTimeout"/>
    /// (etcdctl waits that long whatever the cause); the next member then has time to answer. Every member gets its
    /// attempt even past this: with both cores busy an etcdctl against a member that is down took 1.9 s, and the next
    /// one, restarted in turn, 1.1 s more, so a time limit alone failed a write the third member would have taken.
    /// </summary>
    public static readonly TimeSpan WriteWithin = TimeSpan.FromSeconds(3);

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(15);

    public const int MaxAttempts = 10_000;

    private readonly string _pki;
    private readonly string _restartLog;
    private readonly string _folder = ScratchDirectory.Create("probe");
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<EtcdWrite> _writes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private int _attempts;
    private TimeSpan _etcdctlCpu;
    private TimeSpan? _ranFor;
    private string _stoppedBy = "";

    private EtcdWriteProbe(LoopbackFleet fleet)
    {
        _pki = Path.Combine(fleet.NodeRoot("master-1"), "etc/kubernetes/pki");
        _restartLog = fleet.RestartLog;
        _run = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public static EtcdWriteProbe Start(LoopbackFleet fleet) => new(fleet);

    public IReadOnlyList<EtcdWrite> Writes
    {
        get
        {
            lock (_writes)
            {
                return [.. _writes];
            }
        }
    }

    public IReadOnlyList<EtcdWrite> Failed => [.. Writes.Where(w => !w.Accepted)];

    public int Accepted => Writes.Count(w => w.Accepted);

    /// <summary>Stops after the write under way; the probe's records stay readable.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _ranFor ??= _clock.Elapsed;
    }

    /// <summary>
    /// No write failed, the probe wrote until it was stopped (no limit cut it short), and at least one write a second
    /// was accepted: a probe that did next to nothing cannot pass.
    /// </summary>
    public void AssertEveryWriteServed(string during)
    {
        var failed = Failed;
        Assert.True(failed.Count == 0, $"{failed.Count} etcd write(s) failed during {during}; {Summary()}\n{FailureReport(failed)}");
        Assert.True(_stoppedBy == "stop", $"the etcd write probe stopped by itself ({_stoppedBy}) before {during} ended; {Summary()}");
        var ranFor = _ranFor ?? _clock.Elapsed;
        Assert.True(Accepted >= Math.Max(20, (int)ranFor.TotalSeconds), $"too few etcd writes were made during {during}; {Summary()}");
    }

    /// <summary>"412 writes over 103.2 s: 412 accepted, 0 failed; 437 attempts (127.0.10.11 146, 2 not accepted; ...); etcdctl CPU ..."</summary>
    public string Summary()
    {
        var writes = Writes;
        var attempts = writes.SelectMany(w => w.Attempts).ToList();
        var ranFor = _ranFor ?? _clock.Elapsed;
        var members = string.Join("; ", Etcdctl.Members.Select(m =>
            $"{m} {attempts.Count(a => a.Member == m)}, {attempts.Count(a => a.Member == m && !a.Accepted)} not accepted"));
        var slowest = attempts.Where(a => a.Accepted).Select(a => a.Took).DefaultIfEmpty().Max();
        return string.Create(CultureInfo.InvariantCulture,
            $"{writes.Count} writes over {ranFor.TotalSeconds:0.0} s: {writes.Count(w => w.Accepted)} accepted, {writes.Count(w => !w.Accepted)} failed; "
            + $"{attempts.Count} attempts ({members}); slowest accepted attempt {slowest.TotalMilliseconds:0} ms; "
            + $"etcdctl CPU {_etcdctlCpu.TotalSeconds:0.0} s ({_etcdctlCpu.TotalMilliseconds / Math.Max(1, attempts.Count):0} ms an attempt, "
            + $"{100.0 * _etcdctlCpu.Ticks / Math.Max(1, ranFor.Ticks):0} % of one core); stopped by {(_stoppedBy.Length == 0 ? "nothing yet" : _stoppedBy)}");
    }

    /// <summary>The failed writes (the first ten), each with its attempts and the unit restarts around it.</summary>
    public string FailureReport(IReadOnlyList<EtcdWrite> failed) =>
        string.Join("\n", failed.Take(10).Select(w =>
        {
            var restarts = UnitRestarts.Around(_restartLog, w.Wall, TimeSpan.FromSeconds(10), WriteWithin + TimeSpan.FromSeconds(1));
            return $"{w}\n  restarts from 10 s before to 4 s after:\n    {string.Join("\n    ", restarts)}";
        }));

    private void Run()
    {
        var next = TimeSpan.Zero;
        for (var number = 0; ; number++)
        {
            var wait = next - _clock.Elapsed;
            if (_stop.Token.WaitHandle.WaitOne(wait > TimeSpan.Zero ? wait : TimeSpan.Zero))
            {
                _stoppedBy = "stop";
                return;
            }
            if (_clock.Elapsed > Limit || _attempts >= MaxAttempts)
            {
                _stoppedBy = _attempts >= MaxAttempts ? $"its limit of {MaxAttempts} attempts" : $"its limit of {Limit.TotalMinutes:0} min";
                _ranFor = _clock.Elapsed;
                return;
            }
            next = _clock.Elapsed + Every;
            var write = Write(number);
            lock (_writes)
            {
                _writes.Add(write);
            }
        }
    }

    private EtcdWrite Write(int number)
    {
        var start = _clock.Elapsed;
        var wall = TimeProvider.System.GetUtcNow();
        var attempts = new List<EtcdWriteAttempt>();
        // each write starts at the next member, so that every member is written through, not only the first
        var first = number % Etcdctl.Members.Length;
        for (var i = 0; (i < Etcdctl.Members.Length || _clock.Elapsed - start < WriteWithin) && _attempts < MaxAttempts; i++)
        {
            if (i > 0 && i % Etcdctl.Members.Length == 0)
            {
                Thread.Sleep(200); // a pause after each round of three: no busy loop when refusals come at once (files unreadable)
            }
            var left = WriteWithin - (_clock.Elapsed - start);
            var timeout = i >= Etcdctl.Members.Length && left < AttemptTimeout ? left : AttemptTimeout;
            var attempt = Attempt(number, Etcdctl.Members[(first + i) % Etcdctl.Members.Length], timeout);
            attempts.Add(attempt);
            if (attempt.Accepted)
            {
                break;
            }
        }
        return new EtcdWrite(number, start, wall, attempts);
    }

    private EtcdWriteAttempt Attempt(int number, string member, TimeSpan timeout)
    {
        var at = _clock.Elapsed;
        var wall = TimeProvider.System.GetUtcNow();
        _attempts++;
        var (files, problem) = EtcdClientFiles.ReadNow(_pki, _folder);
        if (files is null)
        {
            return new EtcdWriteAttempt(at, wall, member, false, _clock.Elapsed - at, problem, "");
        }
        var cpu = ReapedChildrenCpu.Now();
        var result = Etcdctl.Put(member, files.CaFile, files.CertificateFile, files.KeyFile, $"/certfleet/probe/{number}",
            at.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture), timeout);
        _etcdctlCpu += ReapedChildrenCpu.Now() - cpu;
        var accepted = result.ExitCode == 0;
        return new EtcdWriteAttempt(at, wall, member, accepted, _clock.Elapsed - at, accepted ? "" : Etcdctl.Error(result), files.Description);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        ScratchDirectory.Delete(_folder);
    }
}
