namespace Proxy.Config;

/// <summary>Holds the current snapshot; readers take it with one volatile load, writers swap a whole new one.</summary>
public sealed class ConfigHolder
{
    private readonly Action<GatewayConfig>? _prepare;
    private GatewayConfig _current;

    /// <param name="prepare">Runs on every snapshot before it is put in force (binds its metric series).</param>
    public ConfigHolder(GatewayConfig initial, Action<GatewayConfig>? prepare = null)
    {
        _prepare = prepare;
        prepare?.Invoke(initial);
        _current = initial;
    }

    public GatewayConfig Current => Volatile.Read(ref _current);

    public void Swap(GatewayConfig next)
    {
        _prepare?.Invoke(next);
        Volatile.Write(ref _current, next);
    }
}
