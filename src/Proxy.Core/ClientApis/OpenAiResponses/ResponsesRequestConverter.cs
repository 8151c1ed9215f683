using System.Buffers;
using System.Text.Json;
using Proxy.ClientApis.OpenAiResponses.Store;
using Proxy.Errors;
using Proxy.Providers;
using static Proxy.ClientApis.OpenAiResponses.ResponsesJson;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// A Responses request as the canonical OpenAI chat request the adapters translate from: instructions as the first
/// (system) message, then the stored conversation a previous_response_id continues, then the input (a string is one
/// user message; items as <see cref="ChatMessagesFromItems"/> says). Settings map to their chat names
/// (max_output_tokens → max_completion_tokens, text.format → response_format, reasoning.effort → reasoning_effort);
/// a streamed request asks for usage, which response.completed reports. What only OpenAI can do (built-in tools,
/// background runs, stored prompts and conversations, file ids) is refused with a 400 naming the field, never dropped.
/// Settings with no effect on the answer's shape (include, truncation, store, stream_options) are left out.
/// </summary>
public static class ResponsesRequestConverter
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };

    /// <summary>
    /// Writes the chat request. <paramref name="previous"/> is the stored response the request's previous_response_id
    /// names (looked up by the caller, under the caller's key); a request that names one the caller did not find is refused.
    /// </summary>
    public static void Write(ReadOnlySpan<byte> body, StoredResponse? previous, IBufferWriter<byte> output)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        RejectUnsupported(root, previous);

        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        w.WriteStartObject();
        CopyIfPresent(root, "model", w);
        WriteMessages(root, previous, w);
        ChatToolsFromResponses.WriteTools(root, w);
        ChatToolsFromResponses.WriteToolChoice(root, w);
        CopyIfPresent(root, "parallel_tool_calls", w);
        CopyIfPresent(root, "max_output_tokens", w, "max_completion_tokens");
        CopyIfPresent(root, "temperature", w);
        CopyIfPresent(root, "top_p", w);
        ChatToolsFromResponses.WriteTextFormat(root, w);
        if (Present(root, "reasoning", out var reasoning)) CopyIfPresent(reasoning, "effort", w, "reasoning_effort");
        CopyIfPresent(root, "user", w);
        CopyIfPresent(root, "safety_identifier", w);
        CopyIfPresent(root, "metadata", w);
        CopyIfPresent(root, "prompt_cache_key", w);
        CopyIfPresent(root, "prompt_cache_retention", w);
        CopyIfPresent(root, "service_tier", w);
        if (Present(root, "stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            w.WriteBoolean("stream"u8, true);
            w.WriteStartObject("stream_options"u8);
            w.WriteBoolean("include_usage"u8, true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>The refusal for a previous_response_id the store does not have (for this key), as OpenAI words it.</summary>
    public static CallRejectedException PreviousNotFound(string responseId) =>
        new(new UpstreamFailure(400, OpenAiError.InvalidRequest, "previous_response_not_found", $"Previous response with id '{responseId}' not found.", false),
            "previous_response_id");

    internal static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, ReaderOptions);
            var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
        }
        catch (JsonException)
        {
        }
        throw CallRejectedException.Invalid("The request body must be a JSON object.");
    }

    private static void RejectUnsupported(JsonElement root, StoredResponse? previous)
    {
        if (Present(root, "background", out var background) && background.ValueKind == JsonValueKind.True)
            throw CallRejectedException.Unsupported("Background responses are not available with this provider; send the request without 'background'.", "background");
        if (Present(root, "conversation", out _))
            throw CallRejectedException.Unsupported("Conversations are OpenAI's own objects; continue with previous_response_id instead.", "conversation");
        if (Present(root, "prompt", out _))
            throw CallRejectedException.Unsupported("Stored prompts are OpenAI's own objects; send instructions and input instead.", "prompt");
        if (Present(root, "top_logprobs", out var top) && !(top.ValueKind == JsonValueKind.Number && top.TryGetInt32(out int n) && n == 0))
            throw CallRejectedException.Unsupported("Log probabilities are not returned for this provider; 'top_logprobs' is not supported.", "top_logprobs");
        if (StringOf(root, "previous_response_id") is { } previousId && previous is null) throw PreviousNotFound(previousId);
    }

    private static void WriteMessages(JsonElement root, StoredResponse? previous, Utf8JsonWriter w)
    {
        w.WriteStartArray("messages"u8);
        if (Present(root, "instructions", out var instructions))
        {
            if (instructions.ValueKind != JsonValueKind.String) throw CallRejectedException.Invalid("'instructions' must be a string.", "instructions");
            w.WriteStartObject();
            w.WriteString("role"u8, "system"u8);
            w.WritePropertyName("content"u8);
            instructions.WriteTo(w);
            w.WriteEndObject();
        }

        var messages = new ChatMessagesFromItems(w);
        // The history's documents live until the messages are written: an assistant turn holds on to their elements.
        using var historyInput = previous is null ? null : JsonDocument.Parse(previous.InputItems);
        using var historyOutput = previous is null ? null : JsonDocument.Parse(previous.OutputItems);
        foreach (var history in (ReadOnlySpan<JsonDocument?>)[historyInput, historyOutput])
        {
            if (history is null) continue;
            // The stored items were the gateway's own once; a fault in them is the earlier turn's, named by the id that brought them in.
            foreach (var item in history.RootElement.EnumerateArray()) messages.Item(item, "previous_response_id");
        }
        if (Present(root, "input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String) messages.UserText(input);
            else if (input.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (var item in input.EnumerateArray()) messages.Item(item, $"input[{i++}]");
            }
            else throw CallRejectedException.Invalid("'input' must be a string or an array of items.", "input");
        }
        messages.Flush();
        if (messages.Written == 0) throw CallRejectedException.Invalid("'input' is required: the request has nothing for the model to answer.", "input");
        w.WriteEndArray();
    }
}
