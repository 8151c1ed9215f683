using System.Collections.Frozen;
using Proxy.Routing;

namespace Proxy.Keys;

/// <summary>A caller of the gateway. Only the hash of its secret is ever held.</summary>
public sealed class VirtualKey
{
    public required string Id { get; init; }

    /// <summary>Routes this key may call; null means every route.</summary>
    public FrozenSet<string>? AllowedRoutes { get; init; }

    /// <summary>The team the key belongs to; null when none.</summary>
    public Team? Team { get; init; }

    /// <summary>The key's own limits (its team's are on <see cref="Team"/>).</summary>
    public Limits.LimitRule[] Limits { get; init; } = [];

    /// <summary>The budgets the key's requests are held to: its own, then its team's; empty when none.</summary>
    public Budgets.BudgetRule[] Budgets { get; init; } = [];

    public bool MayUse(Route route) => AllowedRoutes is null || AllowedRoutes.Contains(route.Name);
}

/// <summary>The keys of one config snapshot, by hash.</summary>
public sealed class KeyTable(FrozenDictionary<KeyHash, VirtualKey> byHash)
{
    public int Count => byHash.Count;

    public VirtualKey? Find(ReadOnlySpan<char> secret) =>
        byHash.TryGetValue(KeyHash.Of(secret), out var key) ? key : null;

    private FrozenDictionary<string, VirtualKey>? _byId;

    /// <summary>The key with this id (for accounting off the request path; built on first use).</summary>
    public VirtualKey? FindById(string id) =>
        (_byId ??= byHash.Values.ToFrozenDictionary(k => k.Id, StringComparer.Ordinal)).GetValueOrDefault(id);
}
