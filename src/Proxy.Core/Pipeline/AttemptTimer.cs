using System.Diagnostics;

namespace Proxy.Pipeline;

/// <summary>
/// One upstream attempt's cancellation: <see cref="Token"/> is cancelled when the client leaves or when the deadline
/// last armed (<see cref="ArmAt"/>) passes, as checked by the <see cref="TimeoutWheel"/>. Re-arming is a field write.
/// </summary>
internal sealed class AttemptTimer : IDisposable
{
    // Not linked to the client's token and never given a timer, so it holds nothing that needs disposing: a tick
    // that cancels it just after the attempt ended (a harmless race) finds it intact.
    private readonly CancellationTokenSource _cts = new();
    private readonly CancellationTokenRegistration _onClientGone;
    private readonly int _slot;
    private long _due; // Stopwatch timestamp; 0: disarmed.

    public AttemptTimer(CancellationToken clientAborted)
    {
        _onClientGone = clientAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _cts);
        _slot = TimeoutWheel.Add(this);
    }

    public CancellationToken Token => _cts.Token;

    public bool IsCancellationRequested => _cts.IsCancellationRequested;

    /// <summary>Cancels the token at <paramref name="due"/> (a Stopwatch timestamp), replacing any earlier deadline.</summary>
    public void ArmAt(long due) => Volatile.Write(ref _due, due);

    internal bool IsDue(long now) => Volatile.Read(ref _due) is var due && due != 0 && now >= due && !_cts.IsCancellationRequested;

    internal void Expire() => _cts.Cancel();

    public void Dispose()
    {
        _onClientGone.Dispose();
        TimeoutWheel.Remove(_slot, this);
    }
}
