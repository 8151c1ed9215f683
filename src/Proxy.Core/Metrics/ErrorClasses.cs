using System.Collections.Frozen;
using Proxy.Errors;

namespace Proxy.Metrics;

/// <summary>
/// The error_class label's values. A request's class may come from an upstream's error body, which the gateway does
/// not control, so anything outside this set is counted as "other".
/// </summary>
internal static class ErrorClasses
{
    public const string None = "none";

    /// <summary>The client went away before its answer was complete (recorded with status 499 when none of it was sent).</summary>
    public const string ClientClosed = "client_closed";

    /// <summary>Refused at the concurrency cap (server.max_concurrent_requests): 503, before any work.</summary>
    public const string GatewayOverloaded = "gateway_overloaded";

    /// <summary>The gateway itself ran out of file descriptors (EMFILE/ENFILE) calling the upstream: 503, not the upstream's fault.</summary>
    public const string GatewayResources = "gateway_resources";

    private static readonly string[] Known =
    [
        None, OpenAiError.InvalidRequest, OpenAiError.Authentication, OpenAiError.Permission, OpenAiError.NotFound,
        OpenAiError.RateLimit, OpenAiError.Upstream, OpenAiError.Timeout, ClientClosed, OpenAiError.Server, "error",
        GatewayOverloaded, GatewayResources, Labels.Other,
    ];

    private static readonly FrozenDictionary<string, int> Index =
        Known.Select((name, i) => (name, i)).ToFrozenDictionary(p => p.name, p => p.i, StringComparer.Ordinal);

    public static int Count => Known.Length;

    public static string Name(int index) => Known[index];

    public static int IndexOf(string? errorClass) =>
        errorClass is null ? 0 : Index.TryGetValue(errorClass, out var i) ? i : Known.Length - 1;
}
