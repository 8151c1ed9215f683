using System.Text.Json.Nodes;

namespace Proxy.ControlPlane;

/// <summary>What the control plane holds: the config file's data sections, one object per row.</summary>
public enum ObjectKind
{
    Provider,
    Route,
    Team,
    Key,
}

/// <summary>
/// One provider, route, team or virtual key: <see cref="Body"/> is the object the config file would hold under
/// <c>providers.NAME</c>, <c>routes.NAME</c>, <c>teams.NAME</c>, or one entry of <c>keys</c> without its <c>id</c>
/// (the name is the id). Provider credentials in it are sealed or references, never plain.
/// </summary>
public sealed record ConfigObject(ObjectKind Kind, string Name, JsonObject Body, long Revision = 1, DateTimeOffset UpdatedAt = default, string? Display = null)
{
    public static string KindName(ObjectKind kind) => kind switch
    {
        ObjectKind.Provider => "provider",
        ObjectKind.Route => "route",
        ObjectKind.Team => "team",
        _ => "key",
    };

    public static bool TryParseKind(string text, out ObjectKind kind)
    {
        switch (text)
        {
            case "provider": kind = ObjectKind.Provider; return true;
            case "route": kind = ObjectKind.Route; return true;
            case "team": kind = ObjectKind.Team; return true;
            case "key": kind = ObjectKind.Key; return true;
            default: kind = default; return false;
        }
    }

    /// <summary>The config file's section for a kind.</summary>
    public static string SectionOf(ObjectKind kind) => kind switch
    {
        ObjectKind.Provider => "providers",
        ObjectKind.Route => "routes",
        ObjectKind.Team => "teams",
        _ => "keys",
    };
}
