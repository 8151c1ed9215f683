using Microsoft.AspNetCore.Http;
using Proxy.Routing;

namespace Proxy.Pipeline;

/// <summary>
/// Every routed answer says what happened: <c>x-gateway-target</c> (provider name / upstream model of the target that
/// served, or last failed) and <c>x-gateway-attempts</c>. Never URLs or credentials. Values are made once, so setting
/// them allocates nothing.
/// </summary>
public static class RoutingHeaders
{
    public const string Target = "x-gateway-target";
    public const string Attempts = "x-gateway-attempts";

    private static readonly string[] Counts = [.. Enumerable.Range(0, 16).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public static void Set(HttpResponse response, Target target, int attempts)
    {
        var headers = response.Headers;
        headers[Target] = target.HeaderValue;
        headers[Attempts] = Counts[Math.Min(attempts, Counts.Length - 1)];
    }

    /// <summary>No target could be called (every breaker open).</summary>
    public static void SetNone(HttpResponse response) => response.Headers[Attempts] = Counts[0];

    /// <summary><c>provider/model</c> with anything outside printable ASCII percent-encoded: a header value must not carry it.</summary>
    public static string ValueFor(string provider, string model)
    {
        var raw = provider + "/" + model;
        if (!raw.AsSpan().ContainsAnyExceptInRange((char)0x20, (char)0x7E)) return raw;
        var sb = new System.Text.StringBuilder();
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(raw))
        {
            if (b is >= 0x20 and < 0x7F && b != '%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
