using System.Collections.Concurrent;
using System.Text.Json;

namespace MockUpstream.OpenAi;

/// <summary>The SSE events of one streamed completion, in order: role, content chunks, stop, usage (optional), [DONE].</summary>
internal sealed record StreamPlan(byte[] Role, byte[][] Content, byte[] Stop, byte[]? Usage);

/// <summary>
/// Every chat response byte, built once at start so a request costs a memcpy, not JSON serialization.
/// Shapes follow the OpenAI API: chunks carry "usage":null only when the client asked for include_usage.
/// </summary>
internal sealed class ChatPayloads
{
    private const string Id = "chatcmpl-mock";
    private const string Fingerprint = "fp_mock";
    private const string Token = " lorem"; // one "token" of completion text; every token is the same so chunks can share bytes
    private const int MaxCachedPlans = 64;

    private readonly MockOptions _o;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly StreamPlan _defaultPlan, _defaultPlanWithUsage;
    private readonly ConcurrentDictionary<(int Chunks, bool Usage), StreamPlan> _overrides = new();

    public byte[] Plain { get; }

    public ChatPayloads(MockOptions o)
    {
        _o = o;
        Plain = BuildPlain();
        _defaultPlan = BuildPlan(o.Chunks, includeUsage: false);
        _defaultPlanWithUsage = BuildPlan(o.Chunks, includeUsage: true);
    }

    /// <summary>The default chunk count is precomputed; an x-mock-chunks override is built once and cached (bounded).</summary>
    public StreamPlan Plan(int chunks, bool includeUsage)
    {
        if (chunks == _o.Chunks) return includeUsage ? _defaultPlanWithUsage : _defaultPlan;
        if (_overrides.TryGetValue((chunks, includeUsage), out StreamPlan? plan)) return plan;
        plan = BuildPlan(chunks, includeUsage);
        if (_overrides.Count < MaxCachedPlans) _overrides.TryAdd((chunks, includeUsage), plan);
        return plan;
    }

    private byte[] BuildPlain() => Wire.Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", _created);
        w.WriteString("model", _o.Model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", Text(_o.CompletionTokens));
        w.WriteNull("refusal");
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", "stop");
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w);
        w.WriteString("system_fingerprint", Fingerprint);
        w.WriteEndObject();
    });

    private StreamPlan BuildPlan(int chunks, bool includeUsage)
    {
        byte[] role = Chunk(includeUsage, w =>
        {
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteNull("refusal");
        }, finishReason: null);

        // Tokens spread as evenly as possible, rounding up first so the first content chunk is never empty
        // (the load generator's time-to-first-token is the first chunk with text). At most two distinct sizes.
        var bySize = new Dictionary<int, byte[]>();
        var content = new byte[chunks][];
        int total = _o.CompletionTokens;
        for (int i = 0; i < chunks; i++)
        {
            int n = Ceil((i + 1) * (long)total, chunks) - Ceil(i * (long)total, chunks);
            if (!bySize.TryGetValue(n, out byte[]? bytes))
                bySize[n] = bytes = Chunk(includeUsage, w => w.WriteString("content", Text(n)), finishReason: null);
            content[i] = bytes;
        }

        byte[] stop = Chunk(includeUsage, _ => { }, finishReason: "stop");
        byte[]? usage = includeUsage ? Wire.SseData(Wire.Json(w =>
        {
            WriteChunkHeader(w);
            w.WriteStartArray("choices");
            w.WriteEndArray();
            WriteUsage(w);
            w.WriteEndObject();
        })) : null;
        return new StreamPlan(role, content, stop, usage);
    }

    private byte[] Chunk(bool usageNull, Action<Utf8JsonWriter> delta, string? finishReason) => Wire.SseData(Wire.Json(w =>
    {
        WriteChunkHeader(w);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        delta(w);
        w.WriteEndObject();
        w.WriteNull("logprobs");
        if (finishReason is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        if (usageNull) w.WriteNull("usage");
        w.WriteEndObject();
    }));

    private void WriteChunkHeader(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", _created);
        w.WriteString("model", _o.Model);
        w.WriteString("system_fingerprint", Fingerprint);
    }

    private void WriteUsage(Utf8JsonWriter w)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", _o.PromptTokens);
        w.WriteNumber("completion_tokens", _o.CompletionTokens);
        w.WriteNumber("total_tokens", _o.PromptTokens + _o.CompletionTokens);
        w.WriteEndObject();
    }

    private static string Text(int tokens) => string.Concat(Enumerable.Repeat(Token, tokens));

    private static int Ceil(long a, int b) => (int)((a + b - 1) / b);
}
