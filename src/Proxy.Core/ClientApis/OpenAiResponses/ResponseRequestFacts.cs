using System.Text.Json;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiResponses;

/// <summary>
/// What a Responses answer repeats from its request (the response object echoes the request's settings, and SDKs read
/// some of them: Python's model requires <c>tools</c>, <c>tool_choice</c>, <c>parallel_tool_calls</c>), plus what the
/// gateway needs before translating (<see cref="PreviousResponseId"/>, <see cref="Store"/>, <see cref="Stream"/>).
/// Values are kept as the request's raw JSON, never decoded; absent and null are the same.
/// </summary>
public sealed class ResponseRequestFacts
{
    /// <summary>No request to echo: the defaults an answer shows.</summary>
    public static ResponseRequestFacts Empty { get; } = new();

    /// <summary>The model asked for, a JSON string token; the answer names the upstream's model when it gives one.</summary>
    public byte[]? Model { get; init; }

    public byte[]? Instructions { get; init; }

    public string? PreviousResponseId { get; init; }

    /// <summary>Whether the response is kept for later retrieval and continuation; OpenAI's default is true.</summary>
    public bool Store { get; init; } = true;

    public bool Stream { get; init; }

    public byte[]? Metadata { get; init; }

    public byte[]? Tools { get; init; }

    public byte[]? ToolChoice { get; init; }

    public bool ParallelToolCalls { get; init; } = true;

    public byte[]? MaxOutputTokens { get; init; }

    public byte[]? Temperature { get; init; }

    public byte[]? TopP { get; init; }

    /// <summary>Reads the facts from a Responses request body. Throws <see cref="CallRejectedException"/> for a body that is not a JSON object or a field of the wrong type.</summary>
    public static ResponseRequestFacts Read(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        byte[]? model = null, instructions = null, metadata = null, tools = null, toolChoice = null, maxOutput = null, temperature = null, topP = null;
        string? previous = null;
        bool store = true, stream = false, parallel = true;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw CallRejectedException.Invalid("The request body must be a JSON object.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                bool escaped = reader.ValueIsEscaped;
                reader.Read();
                if (escaped || reader.TokenType == JsonTokenType.Null)
                {
                    reader.Skip();
                    continue;
                }
                if (name.SequenceEqual("previous_response_id"u8)) previous = String(ref reader, "previous_response_id");
                else if (name.SequenceEqual("store"u8)) store = Boolean(ref reader, "store");
                else if (name.SequenceEqual("stream"u8)) stream = Boolean(ref reader, "stream");
                else if (name.SequenceEqual("parallel_tool_calls"u8)) parallel = Boolean(ref reader, "parallel_tool_calls");
                else if (name.SequenceEqual("model"u8)) model = Raw(body, ref reader);
                else if (name.SequenceEqual("instructions"u8)) instructions = Raw(body, ref reader);
                else if (name.SequenceEqual("metadata"u8)) metadata = Raw(body, ref reader);
                else if (name.SequenceEqual("tools"u8)) tools = Raw(body, ref reader);
                else if (name.SequenceEqual("tool_choice"u8)) toolChoice = Raw(body, ref reader);
                else if (name.SequenceEqual("max_output_tokens"u8)) maxOutput = Raw(body, ref reader);
                else if (name.SequenceEqual("temperature"u8)) temperature = Raw(body, ref reader);
                else if (name.SequenceEqual("top_p"u8)) topP = Raw(body, ref reader);
                else reader.Skip();
            }
        }
        catch (JsonException)
        {
            throw CallRejectedException.Invalid("The request body is not valid JSON.");
        }
        if (model is not null && model[0] != (byte)'"') throw CallRejectedException.Invalid("'model' must be a string.", "model");
        return new ResponseRequestFacts
        {
            Model = model, Instructions = instructions, PreviousResponseId = previous, Store = store, Stream = stream, Metadata = metadata,
            Tools = tools, ToolChoice = toolChoice, ParallelToolCalls = parallel, MaxOutputTokens = maxOutput, Temperature = temperature, TopP = topP,
        };
    }

    /// <summary>
    /// The value at the reader (its first token) as raw JSON, the reader left on its last token. Line breaks are
    /// dropped: the value is echoed inside SSE data lines, where one would end the line, and in valid JSON they can
    /// only be whitespace between tokens (inside strings they are escaped).
    /// </summary>
    private static byte[] Raw(ReadOnlySpan<byte> body, ref Utf8JsonReader reader)
    {
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        var raw = body[start..(int)reader.BytesConsumed];
        if (raw.IndexOfAny((byte)'\n', (byte)'\r') < 0) return raw.ToArray();
        var copy = new byte[raw.Length];
        int n = 0;
        foreach (byte b in raw)
        {
            if (b != (byte)'\n' && b != (byte)'\r') copy[n++] = b;
        }
        return copy[..n];
    }

    private static string String(ref Utf8JsonReader reader, string field) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw CallRejectedException.Invalid($"'{field}' must be a string.", field);

    private static bool Boolean(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw CallRejectedException.Invalid($"'{field}' must be a boolean.", field),
    };
}
