using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Pipeline;

namespace Proxy.Cache;

/// <summary>
/// The cache key of a request: SHA-256 (hex) over the client API, the route, whether it streams, the key's id when the
/// route isolates keys (always for the Responses API, whose answers name a response stored under the key that made
/// it), the Anthropic version and beta headers (they change the answer), and the request normalized: its JSON with
/// object keys sorted (ordinal, recursively), insignificant whitespace gone and strings re-escaped one way, and the
/// top-level fields that do not change the answer dropped (<see cref="Ignored"/>). Everything else counts: model,
/// messages, every parameter, tools; numbers keep their text (<c>1</c> and <c>1.0</c> are two keys).
/// </summary>
public static class CacheKey
{
    /// <summary>Top-level request fields that do not change the answer (stream is part of the key on its own).</summary>
    public static readonly string[] Ignored = ["stream", "stream_options", "user", "metadata"];

    private static readonly string[] AnswerHeaders = ["anthropic-version", "anthropic-beta"];

    private static readonly JsonWriterOptions Compact = new() { Indented = false, SkipValidation = true };

    /// <summary>
    /// The key, or null when the body cannot be normalized (not JSON the reader takes, or nested deeper than 256): such
    /// a request is not cached. <paramref name="keyId"/> is included only when given; the caller decides isolation.
    /// </summary>
    public static string? Compute(string api, string route, bool stream, string? keyId, ReadOnlyMemory<byte> body, IHeaderDictionary? headers)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 256 });
            using var buffer = new PooledBuffer(body.Length + 256);
            using (var w = new Utf8JsonWriter(buffer, Compact))
            {
                w.WriteStartObject();
                w.WriteNumber("v"u8, 1);
                w.WriteString("api"u8, api);
                w.WriteString("route"u8, route);
                w.WriteBoolean("stream"u8, stream);
                if (keyId is not null) w.WriteString("key"u8, keyId);
                if (headers is not null)
                {
                    foreach (var name in AnswerHeaders)
                    {
                        if (headers.TryGetValue(name, out var values)) w.WriteString(name, values.ToString());
                    }
                }
                w.WritePropertyName("request"u8);
                WriteNormalized(w, document.RootElement, top: true);
                w.WriteEndObject();
            }
            return Convert.ToHexStringLower(SHA256.HashData(buffer.Span));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // The peeker has refused what the reader cannot read; should anything else get through, it is not cached.
            return null;
        }
    }

    /// <summary>The normalized form of a request body (what the key hashes after its header fields), for tests and debugging.</summary>
    public static string Normalize(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 256 });
        using var buffer = new PooledBuffer(body.Length);
        using (var w = new Utf8JsonWriter(buffer, Compact)) WriteNormalized(w, document.RootElement, top: true);
        return System.Text.Encoding.UTF8.GetString(buffer.Span);
    }

    private static void WriteNormalized(Utf8JsonWriter w, JsonElement element, bool top)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new List<JsonProperty>();
                foreach (var p in element.EnumerateObject())
                {
                    if (top && Array.IndexOf(Ignored, p.Name) >= 0) continue;
                    properties.Add(p);
                }
                // Stable: duplicate names keep their order.
                var sorted = properties.Select((p, i) => (p, i)).OrderBy(x => x.p.Name, StringComparer.Ordinal).ThenBy(x => x.i);
                w.WriteStartObject();
                foreach (var (p, _) in sorted)
                {
                    w.WritePropertyName(p.Name);
                    WriteNormalized(w, p.Value, top: false);
                }
                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in element.EnumerateArray()) WriteNormalized(w, item, top: false);
                w.WriteEndArray();
                break;
            case JsonValueKind.String:
                w.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                w.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
            default:
                element.WriteTo(w); // true, false, null
                break;
        }
    }
}
