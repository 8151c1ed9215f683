using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Proxy.Accounting;

namespace Proxy.Logging;

/// <summary>
/// Serializes a <see cref="RequestRecord"/> as one JSON line (schema documented in README "Request log") with
/// <see cref="Utf8JsonWriter"/>: no reflection, so it is AOT-safe and allocation-light. Not thread-safe: the
/// batcher's single worker owns one instance.
/// </summary>
public sealed class RecordWriter : IDisposable
{
    // Relaxed escaping keeps bodies readable ('<', '+', non-ASCII as is); the output is a log file, never HTML.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    private readonly string _instance;
    private Utf8JsonWriter? _writer;

    /// <param name="instance">Written as the "instance" field of every line (the batcher's instance id).</param>
    public RecordWriter(string instance)
    {
        _instance = instance;
    }

    public void Dispose() => _writer?.Dispose();

    /// <summary>Appends the record and a '\n' to <paramref name="output"/>.</summary>
    public void WriteLine(RequestRecord record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(output);
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(output, WriterOptions);
        }
        else
        {
            _writer.Reset(output);
        }

        var w = _writer;
        w.WriteStartObject();
        w.WriteNumber("schema_version"u8, RequestRecord.SchemaVersion);
        w.WriteString("request_id"u8, record.RequestId);
        // DateTime of kind Utc is written as ISO 8601 with a 'Z' suffix.
        w.WriteString("started_at"u8, record.StartedAt.UtcDateTime);
        w.WriteString("operation"u8, record.Operation);
        w.WriteString("client_api"u8, record.ClientApi);
        w.WriteString("key_id"u8, record.KeyId);
        w.WriteString("route"u8, record.Route);
        w.WriteString("provider"u8, record.Provider);
        w.WriteString("upstream_model"u8, record.UpstreamModel);
        w.WriteString("region"u8, record.Region);
        w.WriteNumber("status"u8, record.Status);
        w.WriteString("error_class"u8, record.ErrorClass);
        w.WriteString("upstream_error"u8, record.UpstreamError);
        w.WriteBoolean("stream"u8, record.Stream);

        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, record.PromptTokens);
        w.WriteNumber("completion_tokens"u8, record.CompletionTokens);
        w.WriteNumber("cached_tokens"u8, record.CachedTokens);
        w.WriteNumber("cache_write_tokens"u8, record.CacheWriteTokens);
        w.WriteBoolean("reported"u8, record.UsageReported);
        w.WriteEndObject();

        // Absent (null) when the price is unknown or no usage was reported, so a sum never mistakes "unknown" for free;
        // a cache hit called no provider and is known to be free.
        if (record.CostNanoUsd > 0) w.WriteNumber("cost_usd"u8, record.CostNanoUsd / 1e9m);
        else if (record.Cache == "hit") w.WriteNumber("cost_usd"u8, 0);
        else w.WriteNull("cost_usd"u8);

        w.WriteNumber("attempts"u8, record.Attempts);
        if (record.FailedAttempts.Count > 0) WriteFailedAttempts(w, record.FailedAttempts);

        w.WriteStartObject("latency_us"u8);
        w.WriteNumber("total"u8, record.TotalUs);
        w.WriteNumber("upstream_ttfb"u8, record.UpstreamTtfbUs);
        w.WriteNumber("ttft"u8, record.TtftUs);
        w.WriteNumber("gateway_overhead"u8, record.GatewayOverheadUs);
        if (record.LimitsUs > 0) w.WriteNumber("limits"u8, record.LimitsUs);
        w.WriteEndObject();
        if (record.LimitedBy is not null) w.WriteString("limited_by"u8, record.LimitedBy);
        if (record.Cache is not null) w.WriteString("cache"u8, record.Cache);

        WriteBody(w, "request_body"u8, record.RequestBody.Span);
        WriteBody(w, "response_body"u8, record.ResponseBody.Span);

        w.WriteBoolean("bodies_truncated"u8, record.BodiesTruncated);
        w.WriteString("instance"u8, _instance);
        w.WriteEndObject();
        w.Flush();

        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>The attempts that failed before the last one; omitted when the first attempt was the last (most requests).</summary>
    private static void WriteFailedAttempts(Utf8JsonWriter w, IReadOnlyList<AttemptRecord> attempts)
    {
        w.WriteStartArray("failed_attempts"u8);
        foreach (var a in attempts)
        {
            w.WriteStartObject();
            w.WriteString("provider"u8, a.Provider);
            w.WriteString("upstream_model"u8, a.UpstreamModel);
            w.WriteString("region"u8, a.Region);
            w.WriteString("error"u8, a.Error);
            w.WriteNumber("upstream_status"u8, a.UpstreamStatus);
            w.WriteNumber("duration_us"u8, a.DurationUs);
            w.WriteString("next"u8, a.Next);
            w.WriteNumber("delay_us"u8, a.DelayUs);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// A body that is valid JSON is embedded as JSON (queryable without double decoding); anything else (SSE
    /// streams, bodies cut at the cap, non-UTF-8) becomes a string. Empty bodies are omitted.
    /// </summary>
    private static void WriteBody(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return;
        }

        if (IsValidJson(body))
        {
            if (body.IndexOfAny((byte)'\n', (byte)'\r') < 0)
            {
                // Valid and single-line: copy verbatim (already validated, so skip the writer's second pass).
                w.WritePropertyName(name);
                w.WriteRawValue(body, skipInputValidation: true);
                return;
            }

            // Pretty-printed JSON: newlines can only be whitespace between tokens (they are escaped inside
            // strings), but a raw newline would split the JSON line, so re-emit it compactly.
            var reader = new Utf8JsonReader(body, ReaderOptions);
            using var document = JsonDocument.ParseValue(ref reader);
            w.WritePropertyName(name);
            document.RootElement.WriteTo(w);
            return;
        }

        // Invalid UTF-8 (e.g. a multi-byte character cut at the byte cap) is replaced with U+FFFD rather than
        // failing the whole record.
        w.WriteString(name, Encoding.UTF8.GetString(body));
    }

    private static bool IsValidJson(ReadOnlySpan<byte> body)
    {
        // Cheap pre-check: a JSON document must start with one of these after whitespace.
        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty || (trimmed[0] != (byte)'{' && trimmed[0] != (byte)'['))
        {
            return false; // Scalars are legal JSON but a body that is just "123" is better kept as text.
        }

        try
        {
            var reader = new Utf8JsonReader(body, ReaderOptions);
            while (reader.Read())
            {
            }

            // With isFinalBlock (the default) the reader throws on trailing garbage and on incomplete input.
            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
