using System.Buffers;
using System.Text.Json;
using Proxy.Errors;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// An Anthropic Messages request as the canonical OpenAI chat request that provider adapters translate from. Values
/// are copied as the client wrote them. A field with no OpenAI equivalent is refused by name unless dropping it cannot
/// change the answer; a malformed request is refused with the path of what is wrong (<c>messages[2].content[0].source</c>).
/// </summary>
public static class ChatRequestWriter
{
    private struct Fields
    {
        public JsonElement Model, Messages, System, MaxTokens, StopSequences, Temperature, TopP, Stream, Tools, ToolChoice,
            Metadata, Thinking, OutputConfig, OutputFormat;
    }

    public static void Write(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        using var document = Parse(body);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw CallRejectedException.Invalid("The request body must be a JSON object.");
        var f = Read(root);

        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        w.WriteStartObject();
        RawJson.Copy(w, "model"u8, f.Model);
        w.WriteStartArray("messages"u8);
        ChatMessagesWriter.WriteSystem(f.System, w);
        ChatMessagesWriter.WriteMessages(f.Messages, w);
        w.WriteEndArray();
        if (RawJson.IsSet(f.MaxTokens)) RawJson.Copy(w, "max_completion_tokens"u8, f.MaxTokens);
        if (RawJson.IsSet(f.StopSequences) && f.StopSequences.GetArrayLength() > 0) RawJson.Copy(w, "stop"u8, f.StopSequences);
        if (RawJson.IsSet(f.Temperature)) RawJson.Copy(w, "temperature"u8, f.Temperature);
        if (RawJson.IsSet(f.TopP)) RawJson.Copy(w, "top_p"u8, f.TopP);
        if (f.Stream.ValueKind == JsonValueKind.True)
        {
            // The usage of an OpenAI stream comes only when asked for; Anthropic's stream always ends with it.
            w.WriteBoolean("stream"u8, true);
            w.WriteStartObject("stream_options"u8);
            w.WriteBoolean("include_usage"u8, true);
            w.WriteEndObject();
        }
        ChatToolsWriter.Write(f.Tools, f.ToolChoice, w);
        if (RawJson.IsSet(f.Metadata) && f.Metadata.TryGetProperty("user_id", out var user) && user.ValueKind == JsonValueKind.String)
            RawJson.Copy(w, "user"u8, user);
        ChatReasoningWriter.WriteEffort(f.Thinking, f.OutputConfig, w);
        ChatReasoningWriter.WriteFormat(f.OutputConfig, f.OutputFormat, w);
        w.WriteEndObject();
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            var document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                document.Dispose();
                throw CallRejectedException.Invalid("The request body has more than one JSON value.");
            }
            return document;
        }
        catch (JsonException e)
        {
            throw CallRejectedException.Invalid("The request body is not valid JSON: " + e.Message);
        }
    }

    /// <summary>Picks the top-level fields, checking their types; refuses a field it does not know.</summary>
    private static Fields Read(JsonElement root)
    {
        var f = default(Fields);
        foreach (var field in root.EnumerateObject())
        {
            var value = field.Value;
            switch (field.Name)
            {
                case "model": f.Model = Expect(value, JsonValueKind.String, "model", required: true); break;
                case "messages": f.Messages = Expect(value, JsonValueKind.Array, "messages", required: true); break;
                case "system": f.System = value; break;
                case "max_tokens": f.MaxTokens = Expect(value, JsonValueKind.Number, "max_tokens"); break;
                case "stop_sequences": f.StopSequences = StringArray(value, "stop_sequences"); break;
                case "temperature": f.Temperature = Expect(value, JsonValueKind.Number, "temperature"); break;
                case "top_p": f.TopP = Expect(value, JsonValueKind.Number, "top_p"); break;
                case "stream": f.Stream = value; break;
                case "tools": f.Tools = value; break;
                case "tool_choice": f.ToolChoice = value; break;
                case "metadata": f.Metadata = Expect(value, JsonValueKind.Object, "metadata"); break;
                case "thinking": f.Thinking = value; break;
                case "output_config": f.OutputConfig = value; break;
                case "output_format": f.OutputFormat = value; break;
                // top_k has no OpenAI equivalent; it narrows sampling, which the provider's own default does well enough.
                case "top_k": break;
                // Anthropic's capacity tier, the container of its code-execution tool (refused with the tool) and its
                // server-side trimming of old tool results: without them the provider answers the same request.
                case "service_tier" or "container" or "context_management": break;
                default:
                    throw CallRejectedException.Unsupported($"'{field.Name}' is not supported when the route's provider is not Anthropic.", field.Name);
            }
        }
        if (f.Model.ValueKind == JsonValueKind.Undefined) throw CallRejectedException.Invalid("'model' is required.", "model");
        if (f.Messages.ValueKind == JsonValueKind.Undefined) throw CallRejectedException.Invalid("'messages' is required.", "messages");
        if (RawJson.IsSet(f.Stream) && f.Stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw CallRejectedException.Invalid("'stream' must be a boolean.", "stream");
        ChatReasoningWriter.CheckOutputConfig(f.OutputConfig);
        return f;
    }

    /// <summary>The value when it has the kind wanted; null counts as not set unless the field is required.</summary>
    private static JsonElement Expect(JsonElement value, JsonValueKind kind, string name, bool required = false)
    {
        if (value.ValueKind == kind || (!required && value.ValueKind == JsonValueKind.Null)) return value;
        string what = kind switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => "a number",
        };
        throw CallRejectedException.Invalid($"'{name}' must be {what}.", name);
    }

    private static JsonElement StringArray(JsonElement value, string name)
    {
        Expect(value, JsonValueKind.Array, name);
        if (value.ValueKind != JsonValueKind.Array) return value;
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw CallRejectedException.Invalid($"'{name}[{i}]' must be a string.", $"{name}[{i}]");
            i++;
        }
        return value;
    }
}
