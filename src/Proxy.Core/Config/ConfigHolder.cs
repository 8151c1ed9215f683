namespace Proxy.Config;

/// <summary>Holds the current snapshot; readers take it with one volatile load, writers swap a whole new one.</summary>
public sealed class ConfigHolder(GatewayConfig initial)
{
    private GatewayConfig _current = initial;

    public GatewayConfig Current => Volatile.Read(ref _current);

    public void Swap(GatewayConfig next) => Volatile.Write(ref _current, next);
}
