using System.Buffers;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Ingress;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// An OpenAI chat completions request to an Anthropic Messages request body. Whatever the Messages API cannot do is
/// refused with a 400 naming the field (<see cref="CallRejectedException"/>); hints with no effect on the answer's
/// shape (seed, penalties, logit_bias, store, service_tier, reasoning_effort...) are left out.
/// </summary>
public static class AnthropicRequestWriter
{
    public static void Write(ReadOnlyMemory<byte> body, in RequestFacts facts, string upstreamModel, AnthropicDialect dialect, IBufferWriter<byte> output)
    {
        // The ingress validated the JSON already; a document is the simple way to walk a request this varied.
        using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 128 });
        var root = doc.RootElement;
        RejectUnsupported(root);

        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        w.WriteStartObject();
        if (dialect.VersionInBody is { } version) w.WriteString("anthropic_version"u8, version);
        if (dialect.ModelInBody) w.WriteString("model"u8, upstreamModel);
        w.WriteNumber("max_tokens"u8, facts.MaxTokens > 0 ? facts.MaxTokens : dialect.DefaultMaxTokens);
        if (!root.TryGetProperty("messages", out var messages)) throw CallRejectedException.Invalid("'messages' is required.", "messages");
        AnthropicMessagesWriter.Write(messages, w);
        WriteStop(root, w);
        CopyIfPresent(root, "temperature", w);
        CopyIfPresent(root, "top_p", w);
        CopyIfPresent(root, "top_k", w); // not OpenAI's, but clients that know Claude send it
        AnthropicToolsWriter.Write(root, w);
        WriteUser(root, w);
        WriteResponseFormat(root, w);
        if (facts.Stream) w.WriteBoolean("stream"u8, true);
        w.WriteEndObject();
    }

    /// <summary>Fields that change what the answer is, which the Messages API has no way to honour.</summary>
    private static void RejectUnsupported(JsonElement root)
    {
        if (Present(root, "n", out var n) && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1))
            throw CallRejectedException.Unsupported("Anthropic models return one choice per request; 'n' must be 1 or absent.", "n");
        if (Present(root, "logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.True)
            throw CallRejectedException.Unsupported("Anthropic models do not return log probabilities; 'logprobs' must be false or absent.", "logprobs");
        if (Present(root, "top_logprobs", out var top) && !(top.ValueKind == JsonValueKind.Number && top.TryGetInt32(out var t) && t == 0))
            throw CallRejectedException.Unsupported("Anthropic models do not return log probabilities; 'top_logprobs' is not supported.", "top_logprobs");
        if (Present(root, "audio", out _))
            throw CallRejectedException.Unsupported("Anthropic models do not produce audio; 'audio' is not supported.", "audio");
        if (Present(root, "modalities", out var modalities) && modalities.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in modalities.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String && !m.ValueEquals("text"u8))
                    throw CallRejectedException.Unsupported($"Anthropic models answer in text only; modality '{m.GetString()}' is not supported.", "modalities");
            }
        }
        if (Present(root, "functions", out _) || Present(root, "function_call", out _))
            throw CallRejectedException.Unsupported("The deprecated 'functions' / 'function_call' fields are not translated; send 'tools' and 'tool_choice'.",
                Present(root, "functions", out _) ? "functions" : "function_call");
    }

    private static void WriteStop(JsonElement root, Utf8JsonWriter w)
    {
        if (!Present(root, "stop", out var stop)) return;
        if (stop.ValueKind == JsonValueKind.String)
        {
            w.WriteStartArray("stop_sequences"u8);
            stop.WriteTo(w);
            w.WriteEndArray();
            return;
        }
        if (stop.ValueKind != JsonValueKind.Array) throw CallRejectedException.Invalid("'stop' must be a string or an array of strings.", "stop");
        w.WriteStartArray("stop_sequences"u8);
        foreach (var s in stop.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.String) throw CallRejectedException.Invalid("'stop' must be a string or an array of strings.", "stop");
            s.WriteTo(w);
        }
        w.WriteEndArray();
    }

    /// <summary>OpenAI's end-user id (<c>user</c>, or its successor <c>safety_identifier</c>) is Anthropic's metadata.user_id.</summary>
    private static void WriteUser(JsonElement root, Utf8JsonWriter w)
    {
        if (!Present(root, "user", out var user) && !Present(root, "safety_identifier", out user)) return;
        if (user.ValueKind != JsonValueKind.String) return;
        w.WriteStartObject("metadata"u8);
        w.WritePropertyName("user_id"u8);
        user.WriteTo(w);
        w.WriteEndObject();
    }

    /// <summary>
    /// json_schema becomes Anthropic's structured output (<c>output_config.format</c>). json_object has no counterpart
    /// (Anthropic constrains output only to a given schema), so it is refused rather than silently ignored.
    /// </summary>
    private static void WriteResponseFormat(JsonElement root, Utf8JsonWriter w)
    {
        if (!Present(root, "response_format", out var format)) return;
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw CallRejectedException.Invalid("'response_format' must be an object with a 'type'.", "response_format");
        if (type.ValueEquals("text"u8)) return;
        if (type.ValueEquals("json_object"u8))
            throw CallRejectedException.Unsupported(
                "Anthropic models cannot be held to 'json_object' without a schema; send response_format type 'json_schema' with a schema instead.",
                "response_format");
        if (!type.ValueEquals("json_schema"u8))
            throw CallRejectedException.Unsupported($"response_format type '{type.GetString()}' is not supported for Anthropic models.", "response_format.type");
        if (!format.TryGetProperty("json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object
            || !spec.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
            throw CallRejectedException.Unsupported("response_format 'json_schema' needs a 'json_schema.schema' object for Anthropic models.", "response_format.json_schema.schema");
        w.WriteStartObject("output_config"u8);
        w.WriteStartObject("format"u8);
        w.WriteString("type"u8, "json_schema"u8);
        w.WritePropertyName("schema"u8);
        schema.WriteTo(w);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void CopyIfPresent(JsonElement root, string name, Utf8JsonWriter w)
    {
        if (!Present(root, name, out var value)) return;
        w.WritePropertyName(name);
        value.WriteTo(w);
    }

    /// <summary>The property exists and is not null (OpenAI clients send explicit nulls for unset fields).</summary>
    internal static bool Present(JsonElement obj, string name, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
}
