using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Errors;

namespace Proxy.Providers.Anthropic;

/// <summary>
/// An Anthropic Message to an OpenAI chat.completion: text blocks become the message content (joined), tool_use
/// blocks become tool_calls (input serialized as the arguments string), stop_reason becomes finish_reason, usage is
/// converted (<see cref="AnthropicTokens"/>). Thinking and server-tool blocks have no OpenAI counterpart and are left out.
/// </summary>
public static class AnthropicResponseWriter
{
    public static void Write(ReadOnlySpan<byte> message, long created, IBufferWriter<byte> output, ref Usage usage)
    {
        var answer = Read(message);
        answer.Tokens.ApplyTo(ref usage);

        using var w = new Utf8JsonWriter(output, JsonOutput.Options);
        w.WriteStartObject();
        w.WriteString("id"u8, answer.Id);
        w.WriteString("object"u8, "chat.completion"u8);
        w.WriteNumber("created"u8, created);
        w.WriteString("model"u8, answer.Model);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant"u8);
        // OpenAI sends null content beside tool calls when the model wrote no text.
        if (answer.Text.Length == 0 && answer.Tools.Count > 0) w.WriteNull("content"u8);
        else w.WriteString("content"u8, answer.Text.ToString());
        w.WriteNull("refusal"u8);
        if (answer.Tools.Count > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var tool in answer.Tools)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, tool.Id);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, tool.Name);
                w.WriteString("arguments"u8, tool.InputLength == 0 ? "{}"u8 : message.Slice(tool.InputStart, tool.InputLength));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        w.WriteString("finish_reason"u8, AnthropicStopReasons.ToFinishReason(Encoding.UTF8.GetBytes(answer.StopReason ?? "")));
        w.WriteEndObject();
        w.WriteEndArray();
        answer.Tokens.WriteOpenAi(w);
        w.WriteEndObject();
    }

    /// <summary>Reads the usage of a Message (for accounting only; never throws).</summary>
    public static void ReadUsage(ReadOnlySpan<byte> message, ref Usage usage)
    {
        try
        {
            Read(message).Tokens.ApplyTo(ref usage);
        }
        catch (InvalidUpstreamAnswerException)
        {
        }
    }

    private sealed class Answer
    {
        public string Id = "";
        public string Model = "";
        public string? StopReason;
        public readonly StringBuilder Text = new();
        public readonly List<ToolUse> Tools = [];
        public AnthropicTokens Tokens;
    }

    private readonly record struct ToolUse(string Id, string Name, int InputStart, int InputLength);

    private static Answer Read(ReadOnlySpan<byte> message)
    {
        var answer = new Answer();
        var reader = new Utf8JsonReader(message);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidUpstreamAnswerException("the answer is not a JSON object");
            bool sawContent = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8)) answer.Id = ReadString(ref reader) ?? "";
                else if (reader.ValueTextEquals("model"u8)) answer.Model = ReadString(ref reader) ?? "";
                else if (reader.ValueTextEquals("stop_reason"u8)) answer.StopReason = ReadString(ref reader);
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) answer.Tokens.Read(ref reader);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidUpstreamAnswerException("'content' is not an array");
                    sawContent = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) ReadBlock(ref reader, answer);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (!sawContent) throw new InvalidUpstreamAnswerException("the answer has no 'content'");
        }
        catch (JsonException e)
        {
            throw new InvalidUpstreamAnswerException("the answer is not valid JSON (" + e.Message + ")", e);
        }
        return answer;
    }

    private static void ReadBlock(ref Utf8JsonReader reader, Answer answer)
    {
        string? type = null, text = null, id = null, name = null;
        int inputStart = 0, inputLength = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) type = ReadString(ref reader);
            else if (reader.ValueTextEquals("text"u8)) text = ReadString(ref reader);
            else if (reader.ValueTextEquals("id"u8)) id = ReadString(ref reader);
            else if (reader.ValueTextEquals("name"u8)) name = ReadString(ref reader);
            else if (reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                inputStart = (int)reader.TokenStartIndex;
                reader.Skip();
                inputLength = (int)reader.BytesConsumed - inputStart;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (type == "text") answer.Text.Append(text);
        else if (type == "tool_use") answer.Tools.Add(new ToolUse(id ?? "", name ?? "", inputStart, inputLength));
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }
}
