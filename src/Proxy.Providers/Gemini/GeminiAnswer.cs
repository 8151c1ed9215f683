using System.Buffers;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Gemini;

/// <summary>
/// A Gemini <c>GenerateContentResponse</c> to an OpenAI <c>chat.completion</c>: the first candidate's text parts
/// (thought summaries left out) become the message content, its functionCall parts become tool_calls, finishReason
/// becomes finish_reason, usageMetadata becomes usage. A prompt Gemini blocked (promptFeedback.blockReason and no
/// candidate) is a 400 naming the reason, as Azure OpenAI answers a filtered prompt.
/// </summary>
public static class GeminiAnswer
{
    public static void Write(ReadOnlySpan<byte> body, in AnswerContext context, IBufferWriter<byte> output, ref Usage usage)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not JSON (" + e.Message + ")", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            var tokens = GeminiUsage.From(root.TryGetProperty("usageMetadata", out var u) ? u : default);
            usage = tokens.ToUsage();

            JsonElement candidate = default;
            bool hasCandidate = root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array
                && candidates.GetArrayLength() > 0 && (candidate = candidates[0]).ValueKind == JsonValueKind.Object;
            if (!hasCandidate && BlockReason(root) is { } blocked) throw PromptBlocked(context.Provider, blocked.Reason, blocked.Message);

            using var w = new Utf8JsonWriter(output, JsonOutput.Options);
            w.WriteStartObject();
            w.WriteString("id"u8, context.Id);
            w.WriteString("object"u8, "chat.completion");
            w.WriteNumber("created"u8, context.Created);
            w.WriteString("model"u8, context.Model);
            w.WriteStartArray("choices"u8);
            w.WriteStartObject();
            w.WriteNumber("index"u8, 0);
            w.WriteStartObject("message"u8);
            w.WriteString("role"u8, "assistant");
            bool hasToolCalls = WriteMessage(candidate, w, context.RequestId);
            w.WriteNull("refusal"u8);
            w.WriteEndObject();
            w.WriteNull("logprobs"u8);
            var reason = hasCandidate && candidate.TryGetProperty("finishReason", out var fr) && fr.ValueKind == JsonValueKind.String
                ? GeminiFinishReason.ToOpenAi(fr.GetString()!, hasToolCalls)
                : hasToolCalls ? "tool_calls" : "stop";
            w.WriteString("finish_reason"u8, reason);
            w.WriteEndObject();
            w.WriteEndArray();
            if (tokens.Seen) tokens.WriteOpenAi(w);
            w.WriteEndObject();
        }
    }

    /// <summary>Writes content and tool_calls; returns whether there were tool calls.</summary>
    private static bool WriteMessage(JsonElement candidate, Utf8JsonWriter w, string requestId)
    {
        JsonElement parts = default;
        bool hasParts = candidate.ValueKind == JsonValueKind.Object && candidate.TryGetProperty("content", out var content)
            && content.ValueKind == JsonValueKind.Object && content.TryGetProperty("parts", out parts) && parts.ValueKind == JsonValueKind.Array;

        string? text = null;
        int calls = 0;
        if (hasParts)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || IsThought(part)) continue;
                if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) text += t.GetString();
                else if (part.TryGetProperty("functionCall", out _)) calls++;
            }
        }
        if (text is null) w.WriteNull("content"u8);
        else w.WriteString("content"u8, text);
        if (calls == 0) return false;

        w.WriteStartArray("tool_calls"u8);
        int index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || IsThought(part) || !part.TryGetProperty("functionCall", out var call) || call.ValueKind != JsonValueKind.Object) continue;
            var signature = part.TryGetProperty("thoughtSignature", out var sig) && sig.ValueKind == JsonValueKind.String ? sig.GetString() : null;
            w.WriteStartObject();
            w.WriteString("id"u8, ToolCallIds.Create(requestId, index++, signature));
            w.WriteString("type"u8, "function");
            w.WriteStartObject("function"u8);
            w.WriteString("name"u8, call.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : "");
            w.WriteString("arguments"u8, Arguments(call));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        return true;
    }

    /// <summary>A functionCall's args object as OpenAI's arguments string (compact JSON); no args is "{}".</summary>
    internal static string Arguments(JsonElement call, bool isArgs = false)
    {
        JsonElement args = call;
        if (!isArgs && !call.TryGetProperty("args", out args)) return "{}";
        if (args.ValueKind != JsonValueKind.Object) return "{}";
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options)) args.WriteTo(w);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool IsThought(JsonElement part) => part.TryGetProperty("thought", out var t) && t.ValueKind == JsonValueKind.True;

    private static (string Reason, string? Message)? BlockReason(JsonElement root)
    {
        if (!root.TryGetProperty("promptFeedback", out var feedback) || feedback.ValueKind != JsonValueKind.Object
            || !feedback.TryGetProperty("blockReason", out var reason) || reason.ValueKind != JsonValueKind.String) return null;
        var message = feedback.TryGetProperty("blockReasonMessage", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        return (reason.GetString()!, message);
    }

    /// <summary>The client's prompt was refused before any answer: its to change, so a 400 like Azure OpenAI's filtered prompt.</summary>
    public static CallRejectedException PromptBlocked(string provider, string reason, string? message) =>
        new(new UpstreamFailure(400, OpenAiError.InvalidRequest, "content_filter",
            $"Upstream '{provider}' blocked the prompt (blockReason: {reason})" + (string.IsNullOrEmpty(message) ? "." : ": " + message), false));
}

/// <summary>What the OpenAI envelope of an answer needs: its id, creation time, model, and the request it answers.</summary>
public readonly record struct AnswerContext(string Id, long Created, string Model, string RequestId, string Provider)
{
    public static AnswerContext For(in UpstreamCall call, TimeProvider time) =>
        new("chatcmpl-" + call.RequestId, time.GetUtcNow().ToUnixTimeSeconds(), call.Target.UpstreamModel, call.RequestId, call.Target.Provider.Name);
}
