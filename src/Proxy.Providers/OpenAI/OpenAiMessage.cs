using System.Text.Json;
using Proxy.Answers;

namespace Proxy.Providers.OpenAI;

/// <summary>
/// The parts of a chat message or stream delta, as spans of the upstream's bytes: gathered first and written after, so
/// they go out in the contract's order (reasoning, text, tool calls) whatever order the server wrote them in.
/// </summary>
internal ref struct OpenAiMessage
{
    public ReadOnlySpan<byte> Content;
    public ReadOnlySpan<byte> Refusal;
    public ReadOnlySpan<byte> Reasoning;

    /// <summary>A reader on the tool_calls array's start, when there is one (<see cref="HasToolCalls"/>).</summary>
    public Utf8JsonReader ToolCalls;
    public bool HasToolCalls;

    /// <summary>Reads the message object the reader is on, leaving the reader on its end.</summary>
    public static OpenAiMessage Read(ReadOnlySpan<byte> json, ref Utf8JsonReader reader)
    {
        var message = default(OpenAiMessage);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                message.Content = RawJson.StringToken(json, reader);
            }
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
            {
                // DeepSeek's and vLLM's name, and OpenRouter's and newer vLLM's. Servers moving from one to the other send
                // both with the same text: the first one counts.
                reader.Read();
                if (RawJson.IsEmpty(message.Reasoning)) message.Reasoning = RawJson.StringToken(json, reader);
            }
            else if (reader.ValueTextEquals("refusal"u8))
            {
                reader.Read();
                message.Refusal = RawJson.StringToken(json, reader);
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    message.ToolCalls = reader;
                    message.HasToolCalls = true;
                }
            }
            else reader.Read();
            reader.Skip();
        }
        return message;
    }

    /// <summary>
    /// The reasoning, then the content and a refusal as text. OpenAI puts a refusal in its own field and documents no
    /// finish_reason for it (a refused answer ends with "stop"); the client reads it as the answer's text.
    /// </summary>
    public readonly void WriteTexts(AnswerWriter writer)
    {
        if (!RawJson.IsEmpty(Reasoning)) writer.Reasoning(Reasoning);
        if (!RawJson.IsEmpty(Content)) writer.Text(Content);
        if (!RawJson.IsEmpty(Refusal)) writer.Text(Refusal);
    }
}

/// <summary>One entry of a tool_calls array, as spans of the upstream's bytes; <see cref="Index"/> is -1 when it has none.</summary>
internal ref struct OpenAiToolCall
{
    public int Index;
    public ReadOnlySpan<byte> Id;
    public ReadOnlySpan<byte> Name;
    public ReadOnlySpan<byte> Arguments;

    /// <summary>Reads the entry object the reader is on, leaving the reader on its end.</summary>
    public static OpenAiToolCall Read(ReadOnlySpan<byte> json, ref Utf8JsonReader reader)
    {
        var call = new OpenAiToolCall { Index = -1 };
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int n) && n >= 0) call.Index = n;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                call.Id = RawJson.StringToken(json, reader);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("function"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) ReadFunction(json, ref reader, ref call);
                else reader.Skip();
            }
            else RawJson.SkipValue(ref reader);
        }
        return call;
    }

    private static void ReadFunction(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, ref OpenAiToolCall call)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isName = reader.ValueTextEquals("name"u8), isArguments = reader.ValueTextEquals("arguments"u8);
            reader.Read();
            if (isArguments)
            {
                call.Arguments = RawJson.Arguments(json, ref reader);
                continue;
            }
            if (isName) call.Name = RawJson.StringToken(json, reader);
            reader.Skip();
        }
    }
}
