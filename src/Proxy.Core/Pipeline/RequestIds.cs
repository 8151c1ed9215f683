using Microsoft.AspNetCore.Http;

namespace Proxy.Pipeline;

/// <summary>Every answer carries x-request-id: the client's own when it sent a sane one, else a new one.</summary>
public static class RequestIds
{
    public const string Header = "x-request-id";

    public static string Assign(HttpContext ctx)
    {
        var incoming = ctx.Request.Headers[Header];
        string id = incoming.Count == 1 && IsSane(incoming[0]) ? incoming[0]! : NewId();
        ctx.Response.Headers[Header] = id;
        return id;
    }

    // Ids go into logs and headers; anything long or with control characters is replaced, not echoed.
    private static bool IsSane(string? s) =>
        s is { Length: > 0 and <= 128 } && !s.AsSpan().ContainsAnyExceptInRange((char)0x21, (char)0x7E);

    // 128 random bits from the per-thread generator (seeded once from the OS). Guid.NewGuid asks the kernel for
    // every id (getrandom, a syscall costing ~1.5% of the gateway's CPU at saturation); an id needs uniqueness,
    // not secrecy.
    private static string NewId() => string.Create(36, 0, static (span, _) =>
    {
        "req_".CopyTo(span);
        Span<byte> bits = stackalloc byte[16];
        Random.Shared.NextBytes(bits);
        Convert.TryToHexStringLower(bits, span[4..], out _);
    });
}
